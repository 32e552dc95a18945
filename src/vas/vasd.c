/* vasd.c: the VAS daemon: load the configuration, start one ingest thread per
 * camera, write the status file, stop cleanly on SIGTERM/SIGINT.
 *
 * Signals: SIGTERM and SIGINT are blocked in every thread (the mask is set
 * before any thread starts and inherited) and taken synchronously by the main
 * thread with sigtimedwait(), which doubles as the status-interval timer. No
 * async-signal handler exists, so nothing has to be async-signal-safe. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libavformat/avformat.h>
#include <libavutil/log.h>

#include "clock.h"
#include "config.h"
#include "ingest.h"
#include "log.h"
#include "sd_notify.h"
#include "status.h"

#define FPS_WINDOW_NS 5000000000ull
#define FPS_SAMPLES 64

static void usage(FILE *f)
{
	fprintf(f, "usage: vasd --config FILE [--status-file PATH] [--status-interval-ms N]\n"
		   "environment: AI_FRAME_EXPORT_ENABLED=true|1 enables the kernel frame export (default off)\n");
}

static bool env_true(const char *name)
{
	const char *v = getenv(name);
	return v && (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"));
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "status-file", required_argument, NULL, 's' },
		{ "status-interval-ms", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *status_path = NULL;
	long interval_ms = 1000;
	struct klog_ctx log;
	int opt;

	klog_ctx_init(&log, "vasd", "%s", "");
	while ((opt = getopt_long(argc, argv, "c:s:i:h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 's': status_path = optarg; break;
		case 'i': {
			char *end;
			interval_ms = strtol(optarg, &end, 10);
			if (*end || interval_ms < 10 || interval_ms > 3600000) {
				fprintf(stderr, "vasd: --status-interval-ms must be 10..3600000, got '%s'\n", optarg);
				return 2;
			}
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!config_path || optind != argc) {
		usage(stderr);
		return 2;
	}

	char err[600];
	struct vas_config *cfg = NULL;
	int r = vas_config_load(&cfg, config_path, err, sizeof(err));
	if (r < 0) {
		/* A configuration is accepted as a whole or not at all. */
		KLOG_ERR(&log, "invalid configuration, not starting: %s", err);
		return 2;
	}
	bool export_on = env_true("AI_FRAME_EXPORT_ENABLED");
#ifndef VAS_HAVE_FRAME_TAP
	if (export_on)
		KLOG_WARN(&log, "AI_FRAME_EXPORT_ENABLED is set but the frame tap is compiled out (VAS_FRAME_TAP=OFF)");
	export_on = false;
#endif
	if (export_on && vas_config_check_export(cfg, err, sizeof(err)) < 0) {
		KLOG_ERR(&log, "invalid configuration, not starting: %s", err);
		vas_config_free(&cfg);
		return 2;
	}
	/* libavformat's own chatter (one line per RTP hiccup) would drown ours;
	 * our log lines carry every error it returns. */
	av_log_set_level(klog_get_level() >= KLOG_DEBUG ? AV_LOG_INFO : AV_LOG_FATAL);
	avformat_network_init();

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	static atomic_bool stop;
	atomic_init(&stop, false);
	size_t n = cfg->n_cameras;
	struct vas_ingest **cams = calloc(n, sizeof(*cams));
	struct vas_ingest_stats *stats = calloc(n, sizeof(*stats));
	/* decode_fps is the rate over the last FPS_WINDOW_NS (at most FPS_SAMPLES
	 * status intervals): RTSP delivers frames in bursts, so a one-interval
	 * rate swings by a frame or two per reading (about 20% at 500 ms), which
	 * made the figure useless to an operator; five seconds is steady and still
	 * shows a stall within one interval's worth of samples. */
	struct fps_sample { uint64_t ns, frames; } *hist = calloc(n * FPS_SAMPLES, sizeof(*hist));
	size_t n_hist = 0, hist_head = 0; /* same for every camera: sampled together */
	double *fps = calloc(n, sizeof(*fps));
	int rc = 0;
	int notify_fd = -1;
	if (!cams || !stats || !hist || !fps) {
		KLOG_ERR(&log, "out of memory");
		rc = 1;
		goto out;
	}
	KLOG_INFO(&log, "starting %zu camera(s) from %s; frame export %s", n, config_path,
		  export_on ? "enabled" : "disabled");
	for (size_t i = 0; i < n; i++) {
		r = vas_ingest_new(&cams[i], &cfg->cameras[i], export_on ? &cfg->export_opts : NULL, &stop);
		if (r < 0) {
			KLOG_ERR(&log, "camera '%s' could not be set up: %s", cfg->cameras[i].id, strerror(-r));
			rc = 1;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		r = vas_ingest_start(cams[i]);
		if (r < 0) {
			KLOG_ERR(&log, "camera '%s': cannot start its thread: %s", cfg->cameras[i].id, strerror(-r));
			rc = 1;
			goto out;
		}
	}

	/* Ready means every camera thread runs, not that every camera is streaming:
	 * a camera that cannot connect is retried forever and must not hold the
	 * whole service in "activating" (its state is in the status file). */
	notify_fd = ksd_notify_open();
	{
		char msg[96];
		snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%zu camera(s), frame export %s\n", n,
			 export_on ? "on" : "off");
		ksd_notify_send(notify_fd, msg);
	}

	{
		uint64_t t0 = kclock_mono_ns();
		for (size_t i = 0; i < n; i++)
			hist[i * FPS_SAMPLES] = (struct fps_sample){ t0, 0 };
		n_hist = 1;
	}
	struct klog_ratelimit rl_status = { 0 };
	for (;;) {
		struct timespec ts = { interval_ms / 1000, (interval_ms % 1000) * 1000000L };
		int sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT) {
			KLOG_INFO(&log, "%s received, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			break;
		}
		uint64_t now = kclock_mono_ns();
		/* Oldest sample still inside the window (always keep one). */
		while (n_hist > 1 && now - hist[hist_head].ns > FPS_WINDOW_NS) {
			hist_head = (hist_head + 1) % FPS_SAMPLES;
			n_hist--;
		}
		if (n_hist == FPS_SAMPLES) { /* full: drop the oldest to make room */
			hist_head = (hist_head + 1) % FPS_SAMPLES;
			n_hist--;
		}
		size_t slot = (hist_head + n_hist) % FPS_SAMPLES;
		double dt = (double)(now - hist[hist_head].ns) / 1e9;
		/* Sample "done" before the stats, so the last status written before
		 * exiting holds the final counts. */
		size_t done = 0;
		for (size_t i = 0; i < n; i++)
			done += (size_t)vas_ingest_done(cams[i]);
		for (size_t i = 0; i < n; i++) {
			vas_ingest_stats(cams[i], &stats[i]);
			const struct fps_sample *o = &hist[i * FPS_SAMPLES + hist_head];
			fps[i] = dt > 0 && stats[i].frames_decoded >= o->frames
					 ? (double)(stats[i].frames_decoded - o->frames) / dt
					 : 0.0;
			hist[i * FPS_SAMPLES + slot] = (struct fps_sample){ now, stats[i].frames_decoded };
		}
		n_hist++;
		if (status_path && (r = vas_status_write(status_path, export_on, stats, fps, n)) < 0)
			klog_ratelimited(&log, &rl_status, 1, 60000, KLOG_WARN, "cannot write status file %s: %s",
					 status_path, strerror(-r));
		if (done == n) {
			/* Only finite sources (benchmark files) end by themselves. */
			KLOG_INFO(&log, "every camera has finished, exiting");
			break;
		}
	}

out:
	ksd_notify_send(notify_fd, "STOPPING=1\n");
	if (notify_fd >= 0)
		close(notify_fd);
	atomic_store(&stop, true);
	for (size_t i = 0; cams && i < n; i++)
		vas_ingest_free(&cams[i]);
	free(cams);
	free(stats);
	free(hist);
	free(fps);
	vas_config_free(&cfg);
	avformat_network_deinit();
	KLOG_INFO(&log, "stopped");
	return rc;
}
