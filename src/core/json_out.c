/* json_out.c: see json_out.h. */
#include "json_out.h"

#include <string.h>

int json_out(struct kjson_buf *b, const cJSON *item)
{
	int rc = 0;
	switch (item->type & 0xFF) {
	case cJSON_False: return KJSON_PUT_LIT(b, "false");
	case cJSON_True: return KJSON_PUT_LIT(b, "true");
	case cJSON_NULL: return KJSON_PUT_LIT(b, "null");
	case cJSON_Number: return kjson_put_number(b, item->valuedouble);
	case cJSON_Raw:
		return item->valuestring ? kjson_put_raw(b, item->valuestring, strlen(item->valuestring))
					 : KJSON_PUT_LIT(b, "null");
	case cJSON_String: return kjson_put_string(b, item->valuestring ? item->valuestring : "");
	case cJSON_Array:
	case cJSON_Object: {
		int obj = (item->type & 0xFF) == cJSON_Object;
		rc = kjson_put_raw(b, obj ? "{" : "[", 1);
		for (const cJSON *c = item->child; c && rc == 0; c = c->next) {
			if (c != item->child)
				rc = KJSON_PUT_LIT(b, ",");
			if (obj && rc == 0) {
				rc = kjson_put_string(b, c->string ? c->string : "");
				if (rc == 0)
					rc = KJSON_PUT_LIT(b, ":");
			}
			if (rc == 0)
				rc = json_out(b, c);
		}
		return rc ? rc : kjson_put_raw(b, obj ? "}" : "]", 1);
	}
	default: return KJSON_PUT_LIT(b, "null");
	}
}
