/* log.c: see log.h. */
#include "log.h"
#include "clock.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* -1 until the first call reads RUTH_LOG_LEVEL; racing first calls both read the
 * same environment and store the same value. */
static _Atomic int g_level = -1;

static const char *const level_names[] = { "ERROR", "WARN", "INFO", "DEBUG" };

void klog_set_level(enum klog_level level)
{
	atomic_store(&g_level, (int)level);
}

enum klog_level klog_get_level(void)
{
	int l = atomic_load_explicit(&g_level, memory_order_relaxed);
	if (l >= 0)
		return (enum klog_level)l;
	const char *e = getenv("RUTH_LOG_LEVEL");
	l = KLOG_INFO;
	if (e) {
		for (int i = 0; i < 4; i++)
			if (strcasecmp(e, level_names[i]) == 0 ||
			    (i == KLOG_WARN && strcasecmp(e, "warning") == 0))
				l = i;
	}
	atomic_store(&g_level, l);
	return (enum klog_level)l;
}

void klog_ctx_init(struct klog_ctx *ctx, const char *part, const char *tag_fmt, ...)
{
	ctx->part = part;
	ctx->tag[0] = '\0';
	if (tag_fmt) {
		va_list ap;
		va_start(ap, tag_fmt);
		vsnprintf(ctx->tag, sizeof(ctx->tag), tag_fmt, ap);
		va_end(ap);
	}
}

void klogv(const struct klog_ctx *ctx, enum klog_level level, const char *fmt, va_list ap)
{
	if ((int)level > (int)klog_get_level())
		return;
	char line[2048];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s [%s%s%s] ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 ts.tv_nsec / 1000000, level_names[level], ctx && ctx->part ? ctx->part : "?",
			 ctx && ctx->tag[0] ? " " : "", ctx ? ctx->tag : "");
	if (n < 0)
		return;
	if ((size_t)n < sizeof(line)) {
		int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		if (m > 0)
			n += m;
	}
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line keeps lines from different threads whole. */
	ssize_t w = write(STDERR_FILENO, line, (size_t)n);
	(void)w;
}

void klog(const struct klog_ctx *ctx, enum klog_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	klogv(ctx, level, fmt, ap);
	va_end(ap);
}

void klog_ratelimited(const struct klog_ctx *ctx, struct klog_ratelimit *rl, uint32_t burst,
		      uint32_t interval_ms, enum klog_level level, const char *fmt, ...)
{
	uint64_t now = kclock_mono_ns();
	if (now - rl->window_start_ns >= (uint64_t)interval_ms * 1000000u) {
		if (rl->suppressed)
			klog(ctx, level, "(%u similar messages suppressed)", rl->suppressed);
		rl->window_start_ns = now;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	if (rl->printed >= burst) {
		rl->suppressed++;
		return;
	}
	rl->printed++;
	va_list ap;
	va_start(ap, fmt);
	klogv(ctx, level, fmt, ap);
	va_end(ap);
}
