/* The tuning file's data, shared by tuning.c (the file: load, look up, save, apply CLBlast's parameters) and tune.c
 * (the search, reached only from clconv_tune). */
#ifndef CLCONV_TUNING_H
#define CLCONV_TUNING_H
#include "internal.h"

#include <clblast_c.h>

#define XGEMM_N 16 /* CLBlast's Xgemm parameters, in this order */
enum { GEMMK, KREG, KWG, KWI, MDIMA, MDIMC, MWG, NDIMB, NDIMC, NWG, SA, SB, STRM, STRN, VWM, VWN };
#define SHAPE_KEY 192
/* XGEMM_MIN_INDIRECT_SIZE values that send every GEMM to CLBlast's direct kernel, or to its tiled one */
#define ALL_DIRECT 100000u
#define ALL_TILED 1u

typedef struct tuned_shape {
  char key[SHAPE_KEY];
  clconv_conv_algo algo; /* AUTO: none measured */
  bool has_variant;
  clconv__variant variant;
} tuned_shape;

struct clconv__tuning {
  bool has_xgemm;
  size_t xgemm[XGEMM_N];
  size_t min_indirect; /* 0: not set */
  size_t n_shapes, cap_shapes;
  tuned_shape *shapes;
};

/* Sets CLBlast's parameters for dev (process-wide, no way back to its defaults) and tells the gemm algorithm. */
CLBlastStatusCode clconv__tuning_override_xgemm(cl_device_id dev, const size_t v[XGEMM_N]);
CLBlastStatusCode clconv__tuning_override_min_indirect(cl_device_id dev, size_t v);
/* Whether any context of the process has overridden CLBlast's parameters. */
bool clconv__tuning_overridden(void);
/* Records the measured algorithm and direct kernel of g's shape in t (the first record of a shape wins); false
 * when out of host memory. */
bool clconv__tuning_add(clconv__tuning *t, const clconv__conv_geom *g, clconv_conv_algo algo, const clconv__variant *v);
void clconv__tuning_destroy(clconv__tuning *t);
/* Makes t ctx's tuning (ctx owns it; its kept one-shot ops go: they follow the old choices) and writes it to the
 * device's tuning file; report->saved and report->path say where, ctx's tuning note why not. */
void clconv__tuning_install(clconv_context *ctx, clconv__tuning *t, clconv_tune_report *report);

#endif
