/* pp_dbnet.c: DBNet text detection decoder (PP-OCR det models).
 *
 * Expects one output, the text probability map [1,1,Hm,Wm] (Hm x Wm = the
 * model input size for PP-OCR; another size is scaled). Steps, following
 * PP-OCR's DBPostProcess:
 *   1. binarise at param thresh (default 0.3);
 *   2. 8-connected components (breadth-first, the queue doubles as the
 *      component's pixel list);
 *   3. per component the convex hull of its pixel squares (built from the
 *      per-row extents, which come out already sorted, so no sort is needed)
 *      and the minimum-area enclosing rectangle (rotating calipers: one of
 *      the rectangle's sides lies on a hull edge, so every edge is tried);
 *   4. score = mean probability over the component's pixels (PP-OCR's "fast"
 *      score averages inside the rectangle; over the component is nearly the
 *      same and needs no polygon fill); drop if < box_thresh (default 0.6) or
 *      if the short side < min_size (default 3 map pixels);
 *   5. unclip: grow the rectangle on every side by d = area * unclip_ratio /
 *      perimeter (default ratio 1.5; PP-OCR offsets the polygon with pyclipper
 *      by the same d, and the min-area rectangle of that offset polygon is the
 *      rectangle grown by d); drop if the short side < min_size + 2;
 *   6. map the 4 corners to source pixels (clockwise in image coordinates,
 *      starting at the corner nearest the top-left) and report the enclosing
 *      axis-aligned box; class_id 0.
 * At most max_candidates (default 1000) components are examined, the results
 * sorted by score and cut at max_results. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pp_internal.h"

struct db_state {
	float thresh, box_thresh, unclip_ratio, min_size;
	uint32_t max_cand;
	uint32_t in_w, in_h; /* model input; the map capacity */
};

static int db_create(void **state, const struct ruth_model_config *cfg, char *err, size_t errlen)
{
	if (cfg->expected_width == 0 || cfg->expected_height == 0) {
		snprintf(err, errlen, "dbnet: expected_resolution must be set (it sizes the scratch)");
		return -EINVAL;
	}
	static const char *const known[] = {"thresh", "box_thresh", "unclip_ratio", "min_size", "max_candidates",
					    NULL};
	int rc = ruth_pp__check_params(cfg, "dbnet", known, err, errlen);
	if (rc < 0)
		return rc;
	struct db_state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "dbnet: out of memory");
		return -ENOMEM;
	}
	rc = ruth_pp__param_float(cfg, "thresh", 0.3f, &s->thresh, err, errlen);
	if (!rc)
		rc = ruth_pp__param_float(cfg, "box_thresh", 0.6f, &s->box_thresh, err, errlen);
	if (!rc)
		rc = ruth_pp__param_float(cfg, "unclip_ratio", 1.5f, &s->unclip_ratio, err, errlen);
	if (!rc)
		rc = ruth_pp__param_float(cfg, "min_size", 3.0f, &s->min_size, err, errlen);
	if (!rc)
		rc = ruth_pp__param_u32(cfg, "max_candidates", 1000, &s->max_cand, err, errlen);
	if (!rc && (s->thresh <= 0 || s->thresh >= 1 || s->unclip_ratio < 0 || s->max_cand == 0)) {
		snprintf(err, errlen, "dbnet: params need 0 < thresh < 1, unclip_ratio >= 0, max_candidates > 0");
		rc = -EINVAL;
	}
	if (rc < 0) {
		free(s);
		return rc;
	}
	s->in_w = cfg->expected_width;
	s->in_h = cfg->expected_height;
	*state = s;
	return 0;
}

static void db_destroy(void *state)
{
	free(state);
}

/* Scratch layout, in this order (all parts 4-byte aligned). */
struct db_scratch {
	int32_t *list;      /* cap: BFS queue = component pixel list */
	int32_t *rmin, *rmax; /* in_h: per-row extents of the current component */
	float (*pts)[2];    /* 2 * (in_h + 1): hull input */
	float (*hull)[2];   /* 2 * (in_h + 1) + 1 */
	struct ruth_ipc_detection *cand; /* 2 * max_cand: candidates, then the sort buffer */
	uint8_t *bin;       /* cap: 0 background, 1 text, 2 visited */
};

static size_t db_layout(const struct db_state *s, void *base, struct db_scratch *o)
{
	size_t cap = (size_t)s->in_w * s->in_h, H = s->in_h;
	size_t off = 0;
	uint8_t *b = base;
#define DB_PART(field, bytes)                                                                      \
	do {                                                                                       \
		if (o)                                                                             \
			o->field = (void *)(b + off);                                              \
		off += ((bytes) + 15) & ~(size_t)15;                                               \
	} while (0)
	DB_PART(list, cap * sizeof(int32_t));
	DB_PART(rmin, H * sizeof(int32_t));
	DB_PART(rmax, H * sizeof(int32_t));
	DB_PART(pts, 2 * (H + 1) * sizeof(float[2]));
	DB_PART(hull, (2 * (H + 1) + 1) * sizeof(float[2]));
	DB_PART(cand, 2 * (size_t)s->max_cand * sizeof(struct ruth_ipc_detection)); /* + sort buffer */
	DB_PART(bin, cap);
#undef DB_PART
	return off;
}

static size_t db_scratch_size(const void *state, const struct ruth_model_config *cfg)
{
	(void)cfg;
	return db_layout(state, NULL, NULL);
}

static float cross(const float o[2], const float a[2], const float b[2])
{
	return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

/* Andrew's monotone chain over points already sorted lexicographically;
 * returns the hull size (no repeated closing point). */
static size_t convex_hull(float (*p)[2], size_t n, float (*h)[2])
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		while (k >= 2 && cross(h[k - 2], h[k - 1], p[i]) <= 0)
			k--;
		h[k][0] = p[i][0];
		h[k][1] = p[i][1];
		k++;
	}
	for (size_t i = n - 1, t = k + 1; i-- > 0;) {
		while (k >= t && cross(h[k - 2], h[k - 1], p[i]) <= 0)
			k--;
		h[k][0] = p[i][0];
		h[k][1] = p[i][1];
		k++;
	}
	return k > 1 ? k - 1 : k;
}

struct db_rect {
	float cx, cy, w, h; /* w along u, h along the normal */
	float ux, uy;
};

static void min_area_rect(float (*h)[2], size_t n, struct db_rect *r)
{
	float best = INFINITY;
	for (size_t i = 0; i < n; i++) {
		const float *a = h[i], *b = h[(i + 1) % n];
		float ex = b[0] - a[0], ey = b[1] - a[1], len = sqrtf(ex * ex + ey * ey);
		if (len <= 0)
			continue;
		float ux = ex / len, uy = ey / len;
		float mu0 = INFINITY, mu1 = -INFINITY, mn0 = INFINITY, mn1 = -INFINITY;
		for (size_t j = 0; j < n; j++) {
			float pu = h[j][0] * ux + h[j][1] * uy, pn = -h[j][0] * uy + h[j][1] * ux;
			mu0 = fminf(mu0, pu);
			mu1 = fmaxf(mu1, pu);
			mn0 = fminf(mn0, pn);
			mn1 = fmaxf(mn1, pn);
		}
		float area = (mu1 - mu0) * (mn1 - mn0);
		if (area < best) {
			best = area;
			float cu = (mu0 + mu1) / 2, cn = (mn0 + mn1) / 2;
			r->cx = cu * ux - cn * uy;
			r->cy = cu * uy + cn * ux;
			r->w = mu1 - mu0;
			r->h = mn1 - mn0;
			r->ux = ux;
			r->uy = uy;
		}
	}
}

static int db_run(const void *state, const struct ruth_pp_tensor *outs, size_t n_outs,
		  const struct ruth_letterbox *map, const struct ruth_pp_params *params, void *scratch,
		  struct ruth_ipc_detection *dets, size_t max_dets, size_t *n_dets)
{
	const struct db_state *s = state;
	*n_dets = 0;
	if (n_outs < 1 || outs[0].rank < 2)
		return -EINVAL;
	const struct ruth_pp_tensor *t = &outs[0];
	int64_t Hm = t->shape[t->rank - 2], Wm = t->shape[t->rank - 1];
	if (Hm <= 0 || Wm <= 0 || (size_t)(Hm * Wm) != t->count || (uint64_t)Hm > s->in_h ||
	    (uint64_t)(Hm * Wm) > (uint64_t)s->in_w * s->in_h)
		return -EINVAL;
	struct db_scratch sc;
	db_layout(s, scratch, &sc);
	const float *prob = t->data;
	const size_t npix = (size_t)(Hm * Wm);
	for (size_t i = 0; i < npix; i++)
		sc.bin[i] = prob[i] > s->thresh;
	for (int64_t r = 0; r < Hm; r++) {
		sc.rmin[r] = INT32_MAX;
		sc.rmax[r] = -1;
	}
	/* Map pixels -> model-input pixels. */
	const float fx = (float)s->in_w / (float)Wm, fy = (float)s->in_h / (float)Hm;
	size_t n = 0, examined = 0;
	for (size_t seed = 0; seed < npix && examined < s->max_cand; seed++) {
		if (sc.bin[seed] != 1)
			continue;
		examined++;
		size_t head = 0, tail = 0;
		double psum = 0;
		int32_t r0 = INT32_MAX, r1 = -1;
		sc.bin[seed] = 2;
		sc.list[tail++] = (int32_t)seed;
		while (head < tail) {
			int32_t p = sc.list[head++];
			int32_t y = (int32_t)(p / Wm), x = (int32_t)(p % Wm);
			psum += prob[p];
			if (x < sc.rmin[y])
				sc.rmin[y] = x;
			if (x > sc.rmax[y])
				sc.rmax[y] = x;
			r0 = y < r0 ? y : r0;
			r1 = y > r1 ? y : r1;
			for (int dy = -1; dy <= 1; dy++) {
				int32_t yy = y + dy;
				if (yy < 0 || yy >= Hm)
					continue;
				for (int dx = -1; dx <= 1; dx++) {
					int32_t xx = x + dx;
					if (xx < 0 || xx >= Wm)
						continue;
					size_t q = (size_t)yy * (size_t)Wm + (size_t)xx;
					if (sc.bin[q] == 1) {
						sc.bin[q] = 2;
						sc.list[tail++] = (int32_t)q;
					}
				}
			}
		}
		/* Hull input: for each horizontal grid line L the leftmost and
		 * rightmost pixel-square corner on it, sorted by (y, x). */
		size_t np = 0;
		for (int32_t L = r0; L <= r1 + 1; L++) {
			int32_t lo = INT32_MAX, hi = -1;
			if (L - 1 >= r0) {
				lo = sc.rmin[L - 1];
				hi = sc.rmax[L - 1];
			}
			if (L <= r1) {
				lo = sc.rmin[L] < lo ? sc.rmin[L] : lo;
				hi = sc.rmax[L] > hi ? sc.rmax[L] : hi;
			}
			sc.pts[np][0] = (float)lo;
			sc.pts[np][1] = (float)L;
			np++;
			sc.pts[np][0] = (float)(hi + 1);
			sc.pts[np][1] = (float)L;
			np++;
		}
		for (int32_t r = r0; r <= r1; r++) {
			sc.rmin[r] = INT32_MAX;
			sc.rmax[r] = -1;
		}
		/* Swap to (y, x) order for the hull, which needs lexicographic input. */
		for (size_t i = 0; i < np; i++) {
			float tx = sc.pts[i][0];
			sc.pts[i][0] = sc.pts[i][1];
			sc.pts[i][1] = tx;
		}
		size_t nh = convex_hull(sc.pts, np, sc.hull);
		for (size_t i = 0; i < nh; i++) {
			float tx = sc.hull[i][0];
			sc.hull[i][0] = sc.hull[i][1];
			sc.hull[i][1] = tx;
		}
		if (nh < 3)
			continue;
		struct db_rect rc = {0};
		min_area_rect(sc.hull, nh, &rc);
		if (fminf(rc.w, rc.h) < s->min_size)
			continue;
		float score = (float)(psum / (double)tail);
		if (score < s->box_thresh || score < params->score_threshold)
			continue;
		float area = rc.w * rc.h, perim = 2 * (rc.w + rc.h);
		float d = perim > 0 ? area * s->unclip_ratio / perim : 0;
		float w = rc.w + 2 * d, h = rc.h + 2 * d;
		if (fminf(w, h) < s->min_size + 2)
			continue;
		if (n >= s->max_cand)
			break;
		float c[4][2];
		const float sg[4][2] = {{-1, -1}, {1, -1}, {1, 1}, {-1, 1}};
		for (int k = 0; k < 4; k++) {
			float au = sg[k][0] * w / 2, an = sg[k][1] * h / 2;
			c[k][0] = rc.cx + au * rc.ux - an * rc.uy;
			c[k][1] = rc.cy + au * rc.uy + an * rc.ux;
		}
		/* Clockwise on screen (y down) means a positive shoelace sum. */
		float sh = 0;
		for (int k = 0; k < 4; k++)
			sh += c[k][0] * c[(k + 1) % 4][1] - c[(k + 1) % 4][0] * c[k][1];
		int first = 0;
		for (int k = 1; k < 4; k++)
			if (c[k][0] + c[k][1] < c[first][0] + c[first][1])
				first = k;
		struct ruth_ipc_detection *o = &sc.cand[n++];
		memset(o, 0, sizeof(*o));
		o->score = score;
		o->class_id = 0;
		o->n_points = 4;
		o->x0 = o->y0 = INFINITY;
		o->x1 = o->y1 = -INFINITY;
		for (int k = 0; k < 4; k++) {
			int idx = sh >= 0 ? (first + k) % 4 : (first - k + 4) % 4;
			float X = ruth_pp__map_x(map, c[idx][0] * fx), Y = ruth_pp__map_y(map, c[idx][1] * fy);
			o->points[k][0] = X;
			o->points[k][1] = Y;
			o->x0 = fminf(o->x0, X);
			o->y0 = fminf(o->y0, Y);
			o->x1 = fmaxf(o->x1, X);
			o->y1 = fmaxf(o->y1, Y);
		}
	}
	ruth_pp__sort_by_score_tmp(sc.cand, n, sc.cand + s->max_cand);
	size_t cap = params->max_results < max_dets ? params->max_results : max_dets;
	n = n < cap ? n : cap;
	memcpy(dets, sc.cand, n * sizeof(*dets));
	*n_dets = n;
	return 0;
}

const struct ruth_postprocessor ruth_pp__dbnet = {
	.version = RUTH_POSTPROCESSOR_ABI_VERSION,
	.name = "dbnet",
	.create = db_create,
	.destroy = db_destroy,
	.scratch_size = db_scratch_size,
	.run = db_run,
};
