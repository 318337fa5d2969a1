/* The per-device tuning file: CLBlast's GEMM parameters for the gemm algorithm, auto's algorithm and the direct
 * kernel per shape (measured by clconv_tune, tune.c), kept in a versioned per-device file: its name, loading,
 * lookups, saving, and applying CLBlast's parameters.
 *
 * File format (text, one item per line; any deviation and the whole file is ignored):
 *   clconv-tuning 1
 *   key <device key>                        must equal this device's (name, vendor, driver, versions)
 *   xgemm <16 values, in xgemm_names order>  optional
 *   min_indirect <n>                        optional: CLBlast's XGEMM_MIN_INDIRECT_SIZE
 *   algo <direct|gemm> <shape key>          any number: auto's choice
 *   direct <kt> <wt> <kind> <shape key>     any number: the direct algorithm's kernel (clconv__variant: the kind's
 *                                            place in CLCONV__KIND_MAP; kt 0 the one-output kernel) */
#include "tuning.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>

#define FORMAT_LINE "clconv-tuning 1"
static const char *const xgemm_names[XGEMM_N] = {"GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB",
                                                 "NDIMC", "NWG",  "SA",  "SB",  "STRM",  "STRN",  "VWM", "VWN"};

/* CLBlast keeps overrides per device for the whole process, with no way back to its defaults. */
static atomic_bool blas_overridden;

static void shape_key(const clconv__conv_geom *g, char *buf, size_t cap) {
  snprintf(buf, cap, "nd%u n%u c%u k%u g%u in%ux%ux%u ker%ux%ux%u s%ux%ux%u d%ux%ux%u p%ux%ux%u out%ux%ux%u", g->ndim,
           g->n, g->c, g->k, g->groups, g->in[0], g->in[1], g->in[2], g->ker[0], g->ker[1], g->ker[2], g->stride[0],
           g->stride[1], g->stride[2], g->dil[0], g->dil[1], g->dil[2], g->pad[0], g->pad[1], g->pad[2], g->out[0],
           g->out[1], g->out[2]);
}

static const tuned_shape *find_shape(const clconv__tuning *t, const char *key) {
  for (size_t i = 0; t && i < t->n_shapes; i++)
    if (!strcmp(t->shapes[i].key, key))
      return &t->shapes[i];
  return NULL;
}

/* key's entry in t, appended (empty: no algorithm, no kernel) when there is none; NULL when out of host memory. */
static tuned_shape *shape_slot(clconv__tuning *t, const char *key) {
  tuned_shape *e = (tuned_shape *)find_shape(t, key);
  if (e)
    return e;
  if (t->n_shapes == t->cap_shapes) {
    size_t cap = t->cap_shapes ? 2 * t->cap_shapes : 16;
    tuned_shape *grown = clconv__malloc(cap * sizeof *grown);
    if (!grown)
      return NULL;
    if (t->n_shapes)
      memcpy(grown, t->shapes, t->n_shapes * sizeof *grown);
    clconv__free(t->shapes);
    t->shapes = grown;
    t->cap_shapes = cap;
  }
  e = &t->shapes[t->n_shapes++];
  memset(e, 0, sizeof *e);
  snprintf(e->key, SHAPE_KEY, "%s", key);
  return e;
}

clconv_conv_algo clconv__tuned_algo(const clconv_context *ctx, const clconv__conv_geom *g) {
  char key[SHAPE_KEY];
  shape_key(g, key, sizeof key);
  const tuned_shape *e = find_shape(ctx->tuning, key);
  return e ? e->algo : CLCONV_ALGO_AUTO;
}

bool clconv__tuned_variant(const clconv_context *ctx, const clconv__conv_geom *g, clconv__variant *v) {
  char key[SHAPE_KEY];
  shape_key(g, key, sizeof key);
  const tuned_shape *e = find_shape(ctx->tuning, key);
  if (!e || !e->has_variant)
    return false;
  *v = e->variant;
  return true;
}

void clconv__tuning_destroy(clconv__tuning *t) {
  if (t)
    clconv__free(t->shapes);
  clconv__free(t);
}

void clconv__tuning_free(clconv_context *ctx) {
  clconv__tuning_destroy(ctx->tuning);
  ctx->tuning = NULL;
}

bool clconv__tuning_overridden(void) { return atomic_load(&blas_overridden); }

bool clconv__tuning_add(clconv__tuning *t, const clconv__conv_geom *g, clconv_conv_algo algo,
                        const clconv__variant *v) {
  char key[SHAPE_KEY];
  shape_key(g, key, sizeof key);
  if (find_shape(t, key))
    return true;
  tuned_shape *e = shape_slot(t, key);
  if (!e)
    return false;
  e->algo = algo;
  e->has_variant = v != NULL;
  if (v)
    e->variant = *v;
  return true;
}

/* ---- the file's name and key ----------------------------------------------------------------------------------- */
/* dir and path of the tuning file; false when no directory is known (no HOME). */
static bool tuning_path(const char *key, char *dir, size_t dcap, char *path, size_t pcap) {
  if (!clconv__cache_dir(dir, dcap))
    return false;
  uint64_t h = clconv__fnv(CLCONV__FNV_START, key, strlen(key));
  return (size_t)snprintf(path, pcap, "%.1023s/tuning-%016llx.txt", dir, (unsigned long long)h) < pcap;
}

/* ---- applying --------------------------------------------------------------------------------------------------- */
CLBlastStatusCode clconv__tuning_override_xgemm(cl_device_id dev, const size_t v[XGEMM_N]) {
  atomic_store(&blas_overridden, true);
  clconv__blas_lock();
  CLBlastStatusCode st =
      CLBlastOverrideParameters(dev, "Xgemm", CLBlastPrecisionSingle, XGEMM_N, (const char **)xgemm_names, v);
  const size_t tiles[3] = {v[MWG], v[NWG], v[KWG]}; /* MWG, NWG, KWG: the gemm algorithm pads to them (GEMMK = 0) */
  if (st == CLBlastSuccess && v[GEMMK] == 0)
    clconv__gemm_note_params(dev, tiles, 0);
  else
    clconv__gemm_forget_params(dev);
  clconv__blas_unlock();
  return st;
}
CLBlastStatusCode clconv__tuning_override_min_indirect(cl_device_id dev, size_t v) {
  const char *name = "XGEMM_MIN_INDIRECT_SIZE";
  atomic_store(&blas_overridden, true);
  clconv__blas_lock();
  CLBlastStatusCode st = CLBlastOverrideParameters(dev, "GemmRoutine", CLBlastPrecisionSingle, 1, &name, &v);
  if (st == CLBlastSuccess)
    clconv__gemm_note_params(dev, NULL, v);
  clconv__blas_unlock();
  return st;
}

/* ---- loading ---------------------------------------------------------------------------------------------------- */
/* "xgemm <16 values>" into t; false with why. */
static bool parse_xgemm(const char *line, int ln, clconv__tuning *t, int *used, char *why, size_t cap) {
  const char *p = line + 6;
  for (int i = 0; i < XGEMM_N; i++) {
    unsigned long v;
    int n;
    if (sscanf(p, "%lu%n", &v, &n) != 1 || v > 4096) {
      snprintf(why, cap, "line %d: xgemm needs %d values 0..4096", ln, XGEMM_N);
      return false;
    }
    t->xgemm[i] = v;
    p += n;
  }
  *used = (int)(p - line);
  t->has_xgemm = true;
  return true;
}

/* "algo direct|gemm <shape>" or "direct <kt> <wt> <kind 0..3> <shape>" into t; false with why. */
static bool parse_shape(const char *line, int ln, clconv__tuning *t, char *why, size_t cap) {
  bool is_algo = line[0] == 'a';
  clconv_conv_algo a = CLCONV_ALGO_AUTO;
  clconv__variant v = {0};
  int kind = 0, n = 0;
  const char *k = NULL;
  if (is_algo) {
    a = !strncmp(line + 5, "direct ", 7) ? CLCONV_ALGO_DIRECT
        : !strncmp(line + 5, "gemm ", 5) ? CLCONV_ALGO_GEMM
                                         : CLCONV_ALGO_AUTO;
    k = a == CLCONV_ALGO_AUTO ? NULL : line + (a == CLCONV_ALGO_DIRECT ? 12 : 10);
  } else if (sscanf(line + 7, "%d %d %d %n", &v.kt, &v.wt, &kind, &n) == 3 && kind >= 0 && kind < CLCONV__KINDS) {
    v.kind = (clconv__kind)kind;
    /* a kernel this library has: the one-output kernel (kt 0), or one of the catalogue's at any shape */
    clconv__conv_geom any = {.stride = {1, 1, 1}};
    if (v.kt == 0)
      v = CLCONV__DIRECT_VARIANT;
    if (v.kind == CLCONV__DIRECT || clconv__variant_valid(&v, &any))
      k = line + 7 + n;
  }
  if (!k || strlen(k) == 0 || strlen(k) >= SHAPE_KEY) {
    snprintf(why, cap, "line %d: expected \"algo direct|gemm <shape>\" or \"direct <kt> <wt> <kind> <shape>\"", ln);
    return false;
  }
  tuned_shape *e = shape_slot(t, k);
  if (!e) {
    snprintf(why, cap, "out of host memory");
    return false;
  }
  if (is_algo) {
    e->algo = a;
  } else {
    e->has_variant = true;
    e->variant = v;
  }
  return true;
}

static bool parse_file(FILE *f, const char *key, clconv__tuning *t, char *why, size_t cap) {
  char line[1024];
  for (int ln = 1; fgets(line, sizeof line, f); ln++) {
    size_t len = strlen(line);
    if (len == 0 || line[len - 1] != '\n') {
      snprintf(why, cap, "line %d: truncated or too long", ln);
      return false;
    }
    line[--len] = '\0';
    if (ln == 1 && strcmp(line, FORMAT_LINE)) {
      snprintf(why, cap, "line 1: not \"" FORMAT_LINE "\"");
      return false;
    }
    if (ln == 2 && (strncmp(line, "key ", 4) || strcmp(line + 4, key))) {
      snprintf(why, cap, "written for another device, driver or version");
      return false;
    }
    if (ln <= 2)
      continue;
    int used = 0;
    if (!strncmp(line, "algo ", 5) || !strncmp(line, "direct ", 7)) {
      if (!parse_shape(line, ln, t, why, cap))
        return false;
      continue;
    }
    if (!strncmp(line, "xgemm ", 6)) {
      if (!parse_xgemm(line, ln, t, &used, why, cap))
        return false;
    } else if (!strncmp(line, "min_indirect ", 13)) {
      unsigned long v;
      if (sscanf(line + 13, "%lu%n", &v, &used) != 1 || v < 1 || v > ALL_DIRECT) {
        snprintf(why, cap, "line %d: min_indirect needs a value 1..%u", ln, ALL_DIRECT);
        return false;
      }
      t->min_indirect = v;
      used += 13;
    } else {
      snprintf(why, cap, "line %d: unknown item", ln);
      return false;
    }
    if (line[used] != '\0') {
      snprintf(why, cap, "line %d: trailing text", ln);
      return false;
    }
  }
  if (ferror(f)) {
    snprintf(why, cap, "read error");
    return false;
  }
  return true;
}

static void load(clconv_context *ctx) {
  char key[1200], dir[1024], path[1100], why[160];
  clconv__device_key(ctx, key, sizeof key);
  if (!tuning_path(key, dir, sizeof dir, path, sizeof path)) {
    snprintf(ctx->tuning_note, sizeof ctx->tuning_note, "none (no CLCONV_CACHE_DIR, XDG_CACHE_HOME or HOME)");
    return;
  }
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(ctx->tuning_note, sizeof ctx->tuning_note, "none (%s: %s)", path, strerror(errno));
    return;
  }
  clconv__tuning *t = clconv__calloc(1, sizeof *t);
  bool ok = t && parse_file(f, key, t, why, sizeof why);
  fclose(f);
  if (!t)
    snprintf(why, sizeof why, "out of host memory");
  CLBlastStatusCode st = CLBlastSuccess;
  if (ok && t->has_xgemm)
    st = clconv__tuning_override_xgemm(ctx->device, t->xgemm);
  if (ok && st == CLBlastSuccess && t->min_indirect)
    st = clconv__tuning_override_min_indirect(ctx->device, t->min_indirect);
  if (ok && st != CLBlastSuccess) {
    snprintf(why, sizeof why, "CLBlast refused its parameters (status %d)", (int)st);
    ok = false;
  }
  if (!ok) {
    if (t)
      clconv__free(t->shapes);
    clconv__free(t);
    snprintf(ctx->tuning_note, sizeof ctx->tuning_note, "ignored %s: %s", path, why);
    return;
  }
  ctx->tuning = t;
  snprintf(ctx->tuning_note, sizeof ctx->tuning_note, "loaded %s: %s, %zu shapes", path,
           t->has_xgemm ? "tuned CLBlast GEMM" : "CLBlast defaults", t->n_shapes);
}

/* Writes t atomically (a temporary file renamed over the old one). false with why on failure. */
static bool save(clconv_context *ctx, const char *dir, const char *path, const char *key, const clconv__tuning *t,
                 char *why, size_t cap) {
  char tmp[1200];
  if (!clconv__cache_mkdir(dir, why, cap))
    return false;
  FILE *f = clconv__cache_open_tmp(ctx, path, tmp, sizeof tmp, why, cap);
  if (!f)
    return false;
  fprintf(f, FORMAT_LINE "\nkey %s\n", key);
  if (t->has_xgemm) {
    fprintf(f, "xgemm");
    for (int i = 0; i < XGEMM_N; i++)
      fprintf(f, " %zu", t->xgemm[i]);
    fprintf(f, "\n");
  }
  if (t->min_indirect)
    fprintf(f, "min_indirect %zu\n", t->min_indirect);
  for (size_t i = 0; i < t->n_shapes; i++) {
    const tuned_shape *e = &t->shapes[i];
    if (e->algo != CLCONV_ALGO_AUTO)
      fprintf(f, "algo %s %s\n", clconv_algo_name(e->algo), e->key);
    if (e->has_variant)
      fprintf(f, "direct %d %d %d %s\n", e->variant.kt, e->variant.wt,
              e->variant.kind == CLCONV__DIRECT ? 0 : (int)e->variant.kind, e->key); /* direct: kt 0 */
  }
  return clconv__cache_commit(f, tmp, path, why, cap);
}

void clconv__tuning_install(clconv_context *ctx, clconv__tuning *t, clconv_tune_report *report) {
  char key[1200], dir[1024], why[1300] = "no CLCONV_CACHE_DIR, XDG_CACHE_HOME or HOME";
  clconv__device_key(ctx, key, sizeof key);
  report->saved = tuning_path(key, dir, sizeof dir, report->path, sizeof report->path) &&
                  save(ctx, dir, report->path, key, t, why, sizeof why);
  clconv__tuning_free(ctx);
  clconv__plans_clear(ctx); /* one-shot ops made before follow the old choices */
  ctx->tuning = t;
  if (report->saved)
    snprintf(ctx->tuning_note, sizeof ctx->tuning_note, "tuned now, saved to %s: %s, %zu shapes", report->path,
             t->has_xgemm ? "tuned CLBlast GEMM" : "CLBlast defaults", t->n_shapes);
  else
    snprintf(ctx->tuning_note, sizeof ctx->tuning_note, "tuned now, for this context only: %s", why);
}

void clconv__tuning_ensure(clconv_context *ctx) {
  if (ctx->tuning_ready)
    return;
  ctx->tuning_ready = true;
  if (ctx->ignore_tuning)
    snprintf(ctx->tuning_note, sizeof ctx->tuning_note, "none (ignore_tuning)");
  else
    load(ctx);
}

const char *clconv_context_tuning(const clconv_context *ctx) {
  if (!ctx)
    return "";
  clconv__tuning_ensure((clconv_context *)ctx); /* the file is read at the first need: this may be it */
  return ctx->tuning_note;
}
