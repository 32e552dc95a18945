/* rtsp_test_server.c: a real RTSP server (Debian's gst-rtsp-server) serving
 * MP4 clips in an endless loop, for vasd's tests and the demo.
 *
 *   rtsp-test-server --port N --mount NAME=FILE [--mount NAME=FILE ...]
 *
 * serves FILE (H.264 or H.265 in MP4) on rtsp://127.0.0.1:N/NAME, prints "READY"
 * on stdout once listening, exits cleanly on SIGTERM/SIGINT.
 *
 * Looping without seeks. Looping a demuxed file by seeking has a known trap in
 * gst-rtsp-server: a seek issued while the shared media is paused (one client
 * leaving as another arrives) can deadlock. So this server never seeks: at start
 * it extracts each clip's video once into an Annex B elementary stream (qtdemux
 * -> h26xparse -> filesink, in a private temporary folder), then serves
 *   multifilesrc loop=true ! h26xparse ! rtph26xpay
 * where multifilesrc replays the bytes forever and the parser timestamps every
 * access unit from the clip's frame rate, so timestamps stay continuous across
 * loops and the sinks pace the stream at the clip's real rate. The media is
 * shared: all clients of one mount see one pipeline, which is what a camera
 * does. */
#include <errno.h>
#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_MOUNTS 16

struct mount {
	char name[64];
	const char *file;
	char es_path[512];
	const char *codec; /* "h264", "h265", or "aac" (audio-only clips, for tests of sources without video) */
	int fps_n, fps_d;
};

static char g_tmpdir[256];
static volatile gboolean g_stop; /* set on the main thread by on_signal */

/* GLib and GStreamer keep process-wide caches (type system, registry, thread
 * pools) that they never free by design; with LeakSanitizer those would hide
 * real leaks of this program, so they are suppressed here, for this program
 * only. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libglib-2.0.so\nleak:libgobject-2.0.so\nleak:libgstreamer-1.0.so\n"
	       "leak:libgstrtspserver-1.0.so\nleak:libgio-2.0.so\nleak:/gstreamer-1.0/\n";
}

/* Extract the video of `m->file` as an Annex B stream with `codec`'s parser.
 * Returns 0, or -1 when the clip has no such stream (the caller tries the next
 * codec). */
static int extract(struct mount *m, const char *codec)
{
	char desc[1400];
	GError *gerr = NULL;
	int r = -1;

	snprintf(m->es_path, sizeof(m->es_path), "%s/%s.%s", g_tmpdir, m->name, codec);
	gchar *loc = g_strescape(m->file, NULL);
	if (!strcmp(codec, "aac"))
		snprintf(desc, sizeof(desc),
			 "filesrc location=\"%s\" ! qtdemux ! aacparse name=parse ! "
			 "audio/mpeg,mpegversion=4,stream-format=adts ! filesink location=\"%s\"",
			 loc, m->es_path);
	else
		snprintf(desc, sizeof(desc),
			 "filesrc location=\"%s\" ! qtdemux ! %sparse name=parse ! "
			 "video/x-%s,stream-format=byte-stream,alignment=au ! filesink location=\"%s\"",
			 loc, codec, codec, m->es_path);
	g_free(loc);
	GstElement *p = gst_parse_launch(desc, &gerr);
	if (!p) {
		fprintf(stderr, "rtsp-test-server: %s\n", gerr ? gerr->message : "parse error");
		g_clear_error(&gerr);
		return -1;
	}
	gst_element_set_state(p, GST_STATE_PLAYING);
	GstBus *bus = gst_element_get_bus(p);
	GstMessage *msg = gst_bus_timed_pop_filtered(bus, 120 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
	if (msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
		GstElement *parse = gst_bin_get_by_name(GST_BIN(p), "parse");
		GstPad *pad = parse ? gst_element_get_static_pad(parse, "src") : NULL;
		GstCaps *caps = pad ? gst_pad_get_current_caps(pad) : NULL;
		m->fps_n = 0;
		m->fps_d = 1;
		if (caps) {
			gst_structure_get_fraction(gst_caps_get_structure(caps, 0), "framerate", &m->fps_n, &m->fps_d);
			gst_caps_unref(caps);
		}
		if (pad)
			gst_object_unref(pad);
		if (parse)
			gst_object_unref(parse);
		if (m->fps_n <= 0 && strcmp(codec, "aac") != 0) {
			fprintf(stderr, "rtsp-test-server: %s: no frame rate in the stream, assuming 25/1\n", m->file);
			m->fps_n = 25;
			m->fps_d = 1;
		}
		m->codec = codec;
		r = 0;
	}
	if (msg)
		gst_message_unref(msg);
	gst_object_unref(bus);
	gst_element_set_state(p, GST_STATE_NULL);
	gst_object_unref(p);
	if (r < 0)
		unlink(m->es_path);
	return r;
}

/* The parser timestamps access units of a bare elementary stream with DTS only
 * (it cannot know the reordering), and the payloader takes the RTP timestamp
 * from PTS, so without this every RTP timestamp would be the same. The test
 * clips' H.264 has no B-frames (scripts/setup encodes with -bf 0), so PTS = DTS
 * is exact for them; for clips with B-frames the timestamps are still monotonic
 * and decoding is unaffected (frame order comes from the bitstream). */
static GstPadProbeReturn pts_from_dts(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	(void)pad;
	(void)data;
	GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(info);
	if (b && !GST_BUFFER_PTS_IS_VALID(b) && GST_BUFFER_DTS_IS_VALID(b)) {
		b = gst_buffer_make_writable(b);
		GST_BUFFER_PTS(b) = GST_BUFFER_DTS(b);
		GST_PAD_PROBE_INFO_DATA(info) = b;
	}
	return GST_PAD_PROBE_OK;
}

static void on_media_configure(GstRTSPMediaFactory *f, GstRTSPMedia *media, gpointer data)
{
	(void)f;
	(void)data;
	GstElement *bin = gst_rtsp_media_get_element(media);
	GstElement *parse = bin ? gst_bin_get_by_name(GST_BIN(bin), "parse") : NULL;
	GstPad *pad = parse ? gst_element_get_static_pad(parse, "src") : NULL;
	if (pad) {
		gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, pts_from_dts, NULL, NULL);
		gst_object_unref(pad);
	}
	if (parse)
		gst_object_unref(parse);
	if (bin)
		gst_object_unref(bin);
}

static gboolean on_signal(gpointer loop)
{
	g_stop = TRUE;
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

static void usage(void)
{
	fprintf(stderr, "usage: rtsp-test-server --port N --mount NAME=FILE [--mount NAME=FILE ...]\n");
}

int main(int argc, char **argv)
{
	struct mount mounts[MAX_MOUNTS];
	int n = 0, port = 0, rc = 1;

	gst_init(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--port") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 1 || v > 65535) {
				fprintf(stderr, "rtsp-test-server: bad --port '%s'\n", argv[i]);
				return 2;
			}
			port = (int)v;
		} else if (!strcmp(argv[i], "--mount") && i + 1 < argc) {
			const char *arg = argv[++i], *eq = strchr(arg, '=');
			if (!eq || eq == arg || !eq[1] || (size_t)(eq - arg) >= sizeof(mounts[0].name) || n == MAX_MOUNTS) {
				fprintf(stderr, "rtsp-test-server: bad --mount '%s' (expected NAME=FILE)\n", arg);
				return 2;
			}
			memset(&mounts[n], 0, sizeof(mounts[n]));
			memcpy(mounts[n].name, arg, (size_t)(eq - arg));
			mounts[n].file = eq + 1;
			if (access(mounts[n].file, R_OK) != 0) {
				fprintf(stderr, "rtsp-test-server: %s: %s\n", mounts[n].file, strerror(errno));
				return 2;
			}
			n++;
		} else {
			usage();
			return 2;
		}
	}
	if (!port || !n) {
		usage();
		return 2;
	}
	/* Signal sources first, so a SIGTERM during the (seconds long) extraction
	 * is not fatal: it is dispatched below and the server exits cleanly. */
	GMainLoop *loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, on_signal, loop);
	g_unix_signal_add(SIGINT, on_signal, loop);
	const char *tmp = getenv("TMPDIR");
	snprintf(g_tmpdir, sizeof(g_tmpdir), "%s/rtsp-test-server.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(g_tmpdir)) {
		perror("rtsp-test-server: mkdtemp");
		g_main_loop_unref(loop);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (extract(&mounts[i], "h264") < 0 && extract(&mounts[i], "h265") < 0 &&
		    extract(&mounts[i], "aac") < 0) {
			fprintf(stderr, "rtsp-test-server: %s: no H.264, H.265 or AAC stream in an MP4 container\n",
				mounts[i].file);
			goto cleanup;
		}
	}

	while (g_main_context_iteration(NULL, FALSE))
		;
	if (g_stop) {
		rc = 0;
		goto cleanup;
	}
	GstRTSPServer *server = gst_rtsp_server_new();
	char service[16];
	snprintf(service, sizeof(service), "%d", port);
	gst_rtsp_server_set_address(server, "127.0.0.1");
	gst_rtsp_server_set_service(server, service);
	GstRTSPMountPoints *mp = gst_rtsp_server_get_mount_points(server);
	for (int i = 0; i < n; i++) {
		char launch[1400], path[80];
		const char *c = mounts[i].codec;
		if (!strcmp(c, "aac"))
			snprintf(launch, sizeof(launch),
				 "( multifilesrc location=\"%s\" loop=true "
				 "caps=\"audio/mpeg,mpegversion=4,stream-format=adts\" ! aacparse ! "
				 "rtpmp4gpay name=pay0 pt=97 )",
				 mounts[i].es_path);
		else
			snprintf(launch, sizeof(launch),
				 "( multifilesrc location=\"%s\" loop=true "
				 "caps=\"video/x-%s,stream-format=byte-stream,framerate=%d/%d\" ! %sparse name=parse ! "
				 "rtp%spay name=pay0 pt=96 config-interval=-1 )",
				 mounts[i].es_path, c, mounts[i].fps_n, mounts[i].fps_d, c, c);
		GstRTSPMediaFactory *f = gst_rtsp_media_factory_new();
		gst_rtsp_media_factory_set_launch(f, launch);
		gst_rtsp_media_factory_set_shared(f, TRUE);
		g_signal_connect(f, "media-configure", G_CALLBACK(on_media_configure), NULL);
		snprintf(path, sizeof(path), "/%s", mounts[i].name);
		gst_rtsp_mount_points_add_factory(mp, path, f);
		fprintf(stderr, "rtsp-test-server: rtsp://127.0.0.1:%d%s <- %s (%s, %d/%d fps)\n", port, path,
			mounts[i].file, c, mounts[i].fps_n, mounts[i].fps_d);
	}
	g_object_unref(mp);
	if (gst_rtsp_server_attach(server, NULL) == 0) {
		fprintf(stderr, "rtsp-test-server: cannot listen on 127.0.0.1:%d\n", port);
		g_object_unref(server);
		goto cleanup;
	}
	printf("READY\n");
	fflush(stdout);
	g_main_loop_run(loop);
	g_object_unref(server);
	rc = 0;

cleanup:
	g_main_loop_unref(loop);
	for (int i = 0; i < n; i++)
		if (mounts[i].es_path[0])
			unlink(mounts[i].es_path);
	rmdir(g_tmpdir);
	return rc;
}
