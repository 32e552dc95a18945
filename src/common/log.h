/* log.h: the one logger every process uses.
 *
 * Lines go to stderr (journald and docker collect it) as
 *   2026-11-25T09:00:00.123Z ERROR [vasd cam=lobby] message
 * The bracket is the log context: the part (vasd, ruth-ai-core, ruth-model-runtime,
 * ...) and an optional object tag (cam=..., model=...). A context is plain data
 * owned by the caller; it is read-only once set up, so any thread may log with it.
 *
 * Hot paths use klog_ratelimited(), which lets one line per interval through per
 * call site's state and counts the ones it suppressed.
 *
 * Thread safety: each line is formatted into a local buffer and written with a
 * single write(2), so lines from different threads never interleave. */
#ifndef KERNEL_COMMON_LOG_H
#define KERNEL_COMMON_LOG_H

#include <stdarg.h>
#include <stdint.h>

enum klog_level { KLOG_ERROR = 0, KLOG_WARN = 1, KLOG_INFO = 2, KLOG_DEBUG = 3 };

struct klog_ctx {
	const char *part;   /* "vasd", "ruth-ai-core", ...; static storage */
	char tag[96];       /* "cam=lobby", "model=blazeface-front", or "" */
};

/* Rate-limit state for one call site; zero-initialise it (static storage is fine). */
struct klog_ratelimit {
	uint64_t window_start_ns;
	uint32_t printed;
	uint32_t suppressed;
};

/* Global level, from the environment variable RUTH_LOG_LEVEL (error, warn, info,
 * debug) at the first log call; default info. */
void klog_set_level(enum klog_level level);
enum klog_level klog_get_level(void);

void klog_ctx_init(struct klog_ctx *ctx, const char *part, const char *tag_fmt, ...)
	__attribute__((format(printf, 3, 4)));

void klog(const struct klog_ctx *ctx, enum klog_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void klogv(const struct klog_ctx *ctx, enum klog_level level, const char *fmt, va_list ap);

/* At most `burst` lines per `interval_ms` from this call site; when a window with
 * suppressed lines closes, the next printed line says how many were dropped.
 * The state is not locked: concurrent callers may let one extra line through,
 * which is harmless for a log limiter. */
void klog_ratelimited(const struct klog_ctx *ctx, struct klog_ratelimit *rl, uint32_t burst,
		      uint32_t interval_ms, enum klog_level level, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

#define KLOG_ERR(ctx, ...)  klog((ctx), KLOG_ERROR, __VA_ARGS__)
#define KLOG_WARN(ctx, ...) klog((ctx), KLOG_WARN, __VA_ARGS__)
#define KLOG_INFO(ctx, ...) klog((ctx), KLOG_INFO, __VA_ARGS__)
#define KLOG_DBG(ctx, ...)  do { if (klog_get_level() >= KLOG_DEBUG) klog((ctx), KLOG_DEBUG, __VA_ARGS__); } while (0)

#endif
