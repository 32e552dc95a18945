/* test_pp_handler_mod.c: tiny custom postprocessor handlers for
 * test_pp_handler, one source built as several MODULE libraries:
 *   PP_MOD_GOOD      a valid ABI-1 handler ("test-handler": one detection)
 *   PP_MOD_NULL      ruth_handler_entry returns NULL
 *   PP_MOD_TOO_NEW   the struct claims version RUTH_POSTPROCESSOR_ABI_VERSION + 1
 *   PP_MOD_NO_ENTRY  exports no ruth_handler_entry at all */
#include <string.h>

#include "postprocess.h"

#ifndef PP_MOD_NO_ENTRY
const struct ruth_postprocessor *ruth_handler_entry(uint32_t abi_version);

static int mod_run(const void *state, const struct ruth_pp_tensor *outs, size_t n_outs,
		   const struct ruth_letterbox *map, const struct ruth_pp_params *params, void *scratch,
		   struct ruth_ipc_detection *dets, size_t max_dets, size_t *n_dets)
{
	(void)state, (void)map, (void)params, (void)scratch;
	*n_dets = 0;
	if (n_outs < 1 || max_dets < 1)
		return -22;
	memset(&dets[0], 0, sizeof(dets[0]));
	dets[0].score = outs[0].data[0];
	dets[0].class_id = 7;
	*n_dets = 1;
	return 0;
}

static const struct ruth_postprocessor mod_pp = {
#ifdef PP_MOD_TOO_NEW
	.version = RUTH_POSTPROCESSOR_ABI_VERSION + 1,
#else
	.version = RUTH_POSTPROCESSOR_ABI_VERSION,
#endif
	.name = "test-handler",
	.run = mod_run,
};

__attribute__((visibility("default"))) const struct ruth_postprocessor *ruth_handler_entry(uint32_t abi_version)
{
#ifdef PP_MOD_NULL
	/* Refuses every version (mod_pp only referenced to keep it compiled). */
	return abi_version == UINT32_MAX ? &mod_pp : NULL;
#else
	return abi_version >= 1 ? &mod_pp : NULL;
#endif
}
#else
__attribute__((visibility("default"))) int ruth_not_the_entry(void);
int ruth_not_the_entry(void)
{
	return 1;
}
#endif
