/* NumPy .npy reading (versions 1.0-3.0; float32/64/16, int32/64, either byte order; C order) into float32, and
 * atomic writing of float32 .npy 1.0 files. No OpenCL, no printing: errors come back as text. */
#ifndef CLCONV_NPY_H
#define CLCONV_NPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NPY_MAX_DIMS 8

typedef enum npy_status {
  NPY_OK = 0,
  NPY_ERR_IO = 1,     /* missing, unreadable or unwritable file */
  NPY_ERR_FORMAT = 2, /* not a valid .npy of a supported kind */
  NPY_ERR_NOMEM = 3,
} npy_status;

typedef struct npy_array {
  uint32_t ndim; /* 0 for a scalar */
  uint64_t shape[NPY_MAX_DIMS];
  size_t count;  /* product of shape (1 for a scalar) */
  float *data;   /* count floats, owned (npy_free) */
  char dtype[8]; /* as in the file, e.g. "<f8" */
  bool lossy;    /* some value changed when converted to float32 */
} npy_array;

/* Parses a whole file image. On failure *out is empty and err holds "<problem>". */
npy_status npy_parse(const unsigned char *buf, size_t len, npy_array *out, char *err, size_t err_cap);
/* Reads and parses path; err holds "<problem>" (the caller names the file). */
npy_status npy_read(const char *path, npy_array *out, char *err, size_t err_cap);
/* Writes a C-order .npy 1.0 file, float32 (data: floats) or float16 (f16, data: uint16_t bits), through a
 * temporary file in the same directory, renamed into place only when complete: on failure the previous file (if
 * any) is untouched and no partial file is left. */
npy_status npy_write(const char *path, uint32_t ndim, const uint64_t *shape, const void *data, bool f16, char *err,
                     size_t err_cap);
void npy_free(npy_array *a);

#endif
