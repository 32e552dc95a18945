/* ruth-ai-core: Ruth AI Core (Phase 3), the control plane between vasd's frame
 * export and the model runtimes. See docs/core.md.
 *   ruth-ai-core --config FILE [--results FILE] [--control-socket PATH] [--check]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

static volatile int g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ruth-ai-core --config FILE [--results FILE] [--control-socket PATH] [--check]\n"
		   "  --check   validate the configuration and discovery, then exit\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "config", required_argument, NULL, 'c' },
					      { "results", required_argument, NULL, 'r' },
					      { "control-socket", required_argument, NULL, 's' },
					      { "check", no_argument, NULL, 'k' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	const char *config = NULL, *results = NULL, *ctl = NULL;
	int check = 0, o;
	while ((o = getopt_long(argc, argv, "c:r:s:kh", opts, NULL)) != -1) {
		switch (o) {
		case 'c': config = optarg; break;
		case 'r': results = optarg; break;
		case 's': ctl = optarg; break;
		case 'k': check = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!config || optind != argc) {
		usage(stderr);
		return 2;
	}
	struct klog_ctx log;
	klog_ctx_init(&log, "ruth-ai-core", "%s", "");
	static struct core_config cfg;
	char err[2048];
	if (core_config_load(config, &cfg, err, sizeof(err)) < 0) {
		KLOG_ERR(&log, "bad configuration: %s", err);
		return 1;
	}
	if (results)
		snprintf(cfg.results, sizeof(cfg.results), "%s", results);
	if (ctl)
		snprintf(cfg.control_socket, sizeof(cfg.control_socket), "%s", ctl);
	if (check)
		cfg.control_socket[0] = 0;
	/* The core is one thread; the class is an optimisation (sched_class.h). */
	int sr = ksched_apply(cfg.sched);
	if (sr < 0)
		KLOG_WARN(&log, "cannot set scheduling class %s: %s; running as %s", ksched_names[cfg.sched],
			  strerror(-sr), ksched_current_name());

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	static struct core core;
	if (core_init(&core, &cfg, err, sizeof(err)) < 0) {
		KLOG_ERR(&log, "%s", err);
		core_fini(&core);
		return 1;
	}
	int rc = 0;
	if (check)
		printf("configuration OK: %zu camera(s), %zu subscription(s), %zu model(s) discovered\n",
		       core.n_cams, cfg.n_subs, core.n_models);
	else
		rc = core_run(&core, &g_stop);
	core_fini(&core);
	return rc < 0 ? 1 : 0;
}
