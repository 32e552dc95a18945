/* status.h: vasd's status file, a JSON snapshot of every camera rewritten
 * atomically (write to PATH.tmp, fsync-free rename over PATH) so a reader never
 * sees a half-written file. Shape (docs/vasd.md):
 *   {"pid":N,"export_enabled":bool,"cameras":[{"id","state","frames_decoded",
 *    "frames_exported","frames_dropped","decode_fps","reconnects","last_error",
 *    "width","height","codec","decode_errors","packets","active_s",
 *    "record":{branch stats},"rtp":{branch stats}}]}
 * Called from vasd's main thread only. */
#ifndef VAS_STATUS_H
#define VAS_STATUS_H

#include <stdbool.h>
#include <stddef.h>

#include "ingest.h"

/* fps[i] is camera i's decode rate over the last status interval. Returns 0 or
 * a negative errno. */
int vas_status_write(const char *path, bool export_enabled, const struct vas_ingest_stats *cams,
		     const double *fps, size_t n);

#endif
