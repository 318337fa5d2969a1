/* .npy format: "\x93NUMPY", major, minor, header length (u16 for 1.x, u32 for 2.x/3.x, little-endian), then a
 * Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...), } padded with spaces and '\n', then
 * the data. Every length is checked against the bytes actually present before anything is allocated. */
#define _POSIX_C_SOURCE 200809L /* mkstemp, fileno, fsync */
#include "npy.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static npy_status fail(npy_status s, char *err, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, cap, fmt, ap);
  va_end(ap);
  return s;
}

/* ---- the header dict: a tiny parser for the Python literals NumPy writes ---------------------------------- */
typedef struct cursor {
  const char *p, *end;
} cursor;

static void skip_ws(cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    c->p++;
}

static bool take(cursor *c, char ch) {
  skip_ws(c);
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return true;
  }
  return false;
}

/* A quoted string without escapes (NumPy never writes any) into buf. */
static bool parse_str(cursor *c, char *buf, size_t cap) {
  skip_ws(c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
    return false;
  char q = *c->p++;
  size_t n = 0;
  while (c->p < c->end && *c->p != q) {
    if (*c->p == '\\' || n + 1 >= cap)
      return false;
    buf[n++] = *c->p++;
  }
  if (c->p >= c->end)
    return false;
  c->p++;
  buf[n] = '\0';
  return true;
}

static bool parse_word(cursor *c, const char *w) {
  skip_ws(c);
  size_t n = strlen(w);
  if ((size_t)(c->end - c->p) >= n && memcmp(c->p, w, n) == 0) {
    c->p += n;
    return true;
  }
  return false;
}

/* (), (n,), (a, b, ...): non-negative integers, at most NPY_MAX_DIMS, each < 2^63. */
static bool parse_shape(cursor *c, npy_array *a, char *err, size_t cap) {
  if (!take(c, '('))
    return (void)snprintf(err, cap, "shape is not a tuple"), false;
  a->ndim = 0;
  for (;;) {
    if (take(c, ')'))
      return true;
    skip_ws(c);
    if (c->p >= c->end || *c->p < '0' || *c->p > '9') {
      snprintf(err, cap, "shape holds something other than non-negative integers");
      return false;
    }
    uint64_t v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
      if (v > (UINT64_MAX / 2 - 9) / 10)
        return (void)snprintf(err, cap, "shape entry overflows"), false;
      v = v * 10 + (uint64_t)(*c->p++ - '0');
    }
    if (c->p < c->end && *c->p == 'L')
      c->p++; /* Python 2 longs */
    if (a->ndim == NPY_MAX_DIMS)
      return (void)snprintf(err, cap, "more than %d dimensions", NPY_MAX_DIMS), false;
    a->shape[a->ndim++] = v;
    if (!take(c, ',')) {
      if (take(c, ')'))
        return true;
      snprintf(err, cap, "shape tuple is malformed");
      return false;
    }
  }
}

static npy_status parse_header(const char *h, size_t n, npy_array *a, char *descr, bool *fortran, char *err,
                               size_t cap) {
  cursor c = {h, h + n};
  bool have_descr = false, have_order = false, have_shape = false;
  if (!take(&c, '{'))
    return fail(NPY_ERR_FORMAT, err, cap, "header is not a dict");
  for (;;) {
    if (take(&c, '}'))
      break;
    char key[32];
    if (!parse_str(&c, key, sizeof key) || !take(&c, ':'))
      return fail(NPY_ERR_FORMAT, err, cap, "header dict is malformed");
    if (!strcmp(key, "descr") && !have_descr) {
      skip_ws(&c);
      bool quoted = c.p < c.end && (*c.p == '\'' || *c.p == '"');
      if (!parse_str(&c, descr, 8))
        return fail(NPY_ERR_FORMAT, err, cap,
                    quoted ? "header dict is malformed (descr)" : "unsupported dtype (a structured or nested type)");
      have_descr = true;
    } else if (!strcmp(key, "fortran_order") && !have_order) {
      if (parse_word(&c, "True"))
        *fortran = true;
      else if (parse_word(&c, "False"))
        *fortran = false;
      else
        return fail(NPY_ERR_FORMAT, err, cap, "fortran_order is neither True nor False");
      have_order = true;
    } else if (!strcmp(key, "shape") && !have_shape) {
      if (!parse_shape(&c, a, err, cap))
        return NPY_ERR_FORMAT;
      have_shape = true;
    } else {
      return fail(NPY_ERR_FORMAT, err, cap, "header has an unknown or repeated key '%s'", key);
    }
    if (!take(&c, ',')) {
      if (take(&c, '}'))
        break;
      return fail(NPY_ERR_FORMAT, err, cap, "header dict is malformed");
    }
  }
  skip_ws(&c);
  if (c.p != c.end)
    return fail(NPY_ERR_FORMAT, err, cap, "header has text after the dict");
  if (!have_descr || !have_order || !have_shape)
    return fail(NPY_ERR_FORMAT, err, cap, "header lacks %s",
                !have_descr   ? "'descr'"
                : !have_order ? "'fortran_order'"
                              : "'shape'");
  return NPY_OK;
}

/* ---- data conversion ------------------------------------------------------------------------------------- */
typedef enum kind { K_F2, K_F4, K_F8, K_I4, K_I8 } kind;

static uint64_t load(const unsigned char *p, size_t size, bool big) {
  uint64_t v = 0;
  for (size_t i = 0; i < size; i++)
    v |= (uint64_t)p[big ? size - 1 - i : i] << (8 * i);
  return v;
}

static float half_to_float(uint16_t h) {
  int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  float v = e == 0 ? ldexpf((float)m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexpf((float)(m | 0x400), e - 25);
  return (h & 0x8000) ? -v : v;
}

/* Converts one element; *lossy is set when the float differs from the stored value. */
static float convert(const unsigned char *p, kind k, bool big, bool *lossy) {
  switch (k) {
  case K_F2:
    return half_to_float((uint16_t)load(p, 2, big));
  case K_F4: {
    uint32_t u = (uint32_t)load(p, 4, big);
    float f;
    memcpy(&f, &u, 4);
    return f;
  }
  case K_F8: {
    uint64_t u = load(p, 8, big);
    double d;
    memcpy(&d, &u, 8);
    float f = (float)d;
    if ((double)f != d && !(isnan(d) && isnan(f)))
      *lossy = true;
    return f;
  }
  case K_I4: {
    int32_t i = (int32_t)(uint32_t)load(p, 4, big);
    float f = (float)i;
    if ((double)f != (double)i)
      *lossy = true;
    return f;
  }
  default: {
    int64_t i = (int64_t)load(p, 8, big);
    float f = (float)i;
    if ((long double)f != (long double)i)
      *lossy = true;
    return f;
  }
  }
}

npy_status npy_parse(const unsigned char *buf, size_t len, npy_array *out, char *err, size_t cap) {
  memset(out, 0, sizeof *out);
  static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (len < 10 || memcmp(buf, magic, 6) != 0)
    return fail(NPY_ERR_FORMAT, err, cap, "not a .npy file (bad magic)");
  unsigned major = buf[6];
  if (major < 1 || major > 3)
    return fail(NPY_ERR_FORMAT, err, cap, "unsupported .npy version %u.%u", major, buf[7]);
  size_t hl_size = major == 1 ? 2 : 4, start = 8 + hl_size;
  if (len < start)
    return fail(NPY_ERR_FORMAT, err, cap, "truncated header");
  uint64_t hlen = load(buf + 8, hl_size, false);
  if (hlen > len - start)
    return fail(NPY_ERR_FORMAT, err, cap, "header length %llu runs past the end of the file", (unsigned long long)hlen);
  const char *h = (const char *)buf + start;
  for (uint64_t i = 0; i < hlen; i++)
    if (h[i] == '\0')
      return fail(NPY_ERR_FORMAT, err, cap, "header contains a NUL byte");
  npy_array a = {0};
  char descr[8];
  bool fortran = false;
  npy_status s = parse_header(h, (size_t)hlen, &a, descr, &fortran, err, cap);
  if (s != NPY_OK)
    return s;

  static const struct {
    char code[3];
    kind k;
    size_t size;
  } types[] = {{"f2", K_F2, 2}, {"f4", K_F4, 4}, {"f8", K_F8, 8}, {"i4", K_I4, 4}, {"i8", K_I8, 8}};
  char order = descr[0];
  int t = -1;
  if (strlen(descr) == 3 && (order == '<' || order == '>' || order == '=' || order == '|'))
    for (int i = 0; i < 5; i++)
      if (!strcmp(descr + 1, types[i].code))
        t = i;
  if (t < 0)
    return fail(NPY_ERR_FORMAT, err, cap, "unsupported dtype '%s' (float16/32/64, int32/64 only)", descr);
  if (fortran)
    return fail(NPY_ERR_FORMAT, err, cap, "fortran_order is True; only C-order arrays are supported");
  bool big = order == '>'; /* '=' and '|' are native: little-endian everywhere NumPy writes them for us */

  size_t count = 1;
  for (uint32_t i = 0; i < a.ndim; i++) {
    if (a.shape[i] > SIZE_MAX || (a.shape[i] && count > SIZE_MAX / a.shape[i]))
      return fail(NPY_ERR_FORMAT, err, cap, "shape product overflows");
    count *= (size_t)a.shape[i];
  }
  size_t have = len - start - (size_t)hlen, item = types[t].size;
  if (count > have / item)
    return fail(NPY_ERR_FORMAT, err, cap, "truncated data: shape needs %zu elements of %zu bytes, file holds %zu bytes",
                count, item, have);
  if (count * item != have)
    return fail(NPY_ERR_FORMAT, err, cap, "%zu bytes of trailing garbage after the data", have - count * item);
  a.data = malloc((count ? count : 1) * sizeof(float));
  if (!a.data)
    return fail(NPY_ERR_NOMEM, err, cap, "out of memory for %zu elements", count);
  const unsigned char *d = buf + start + hlen;
  for (size_t i = 0; i < count; i++)
    a.data[i] = convert(d + i * item, types[t].k, big, &a.lossy);
  a.count = count;
  memcpy(a.dtype, descr, sizeof a.dtype);
  *out = a;
  return NPY_OK;
}

npy_status npy_read(const char *path, npy_array *out, char *err, size_t cap) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "rb");
  if (!f)
    return fail(NPY_ERR_IO, err, cap, "cannot open: %s", strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    return fail(NPY_ERR_IO, err, cap, "not a regular file");
  }
  /* Allocate what the file holds, never what its header claims. */
  size_t len = (size_t)st.st_size;
  unsigned char *buf = malloc(len ? len : 1);
  if (!buf) {
    fclose(f);
    return fail(NPY_ERR_NOMEM, err, cap, "out of memory for %zu bytes", len);
  }
  size_t got = fread(buf, 1, len, f);
  bool bad = ferror(f) != 0;
  fclose(f);
  npy_status s = bad || got != len ? fail(NPY_ERR_IO, err, cap, "read error") : npy_parse(buf, len, out, err, cap);
  free(buf);
  return s;
}

npy_status npy_write(const char *path, uint32_t ndim, const uint64_t *shape, const void *data, bool f16, char *err,
                     size_t cap) {
  char header[512];
  int n = snprintf(header, sizeof header, "{'descr': '<f%d', 'fortran_order': False, 'shape': (", f16 ? 2 : 4);
  size_t count = 1;
  for (uint32_t i = 0; i < ndim; i++) {
    n += snprintf(header + n, sizeof header - (size_t)n, "%s%llu", i ? ", " : "", (unsigned long long)shape[i]);
    count *= (size_t)shape[i];
  }
  n += snprintf(header + n, sizeof header - (size_t)n, "%s), }", ndim == 1 ? "," : "");
  /* pad with spaces so the data starts on a 64-byte boundary, ending in '\n' */
  size_t total = 10 + (size_t)n + 1, padded = (total + 63) / 64 * 64;
  memset(header + n, ' ', padded - total);
  header[n + (int)(padded - total)] = '\n';
  size_t hlen = (size_t)n + (padded - total) + 1;

  size_t plen = strlen(path);
  char *tmp = malloc(plen + 16);
  if (!tmp)
    return fail(NPY_ERR_NOMEM, err, cap, "out of memory");
  snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    npy_status s = fail(NPY_ERR_IO, err, cap, "cannot create a temporary file beside it: %s", strerror(errno));
    free(tmp);
    return s;
  }
  /* mkstemp makes the file 0600; give it the mode a plain fopen would have */
  mode_t mask = umask(0);
  umask(mask);
  FILE *f = fchmod(fd, 0666 & ~mask) == 0 ? fdopen(fd, "wb") : NULL;
  const char *what = NULL;
  unsigned char pre[10] = {
      0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
  if (!f || fwrite(pre, 1, 10, f) != 10 || fwrite(header, 1, hlen, f) != hlen)
    what = "write";
  const size_t size = f16 ? 2 : 4;
  for (size_t i = 0; !what && i < count; i++) {
    uint32_t u;
    if (f16)
      u = ((const uint16_t *)data)[i];
    else
      memcpy(&u, (const float *)data + i, 4);
    unsigned char b[4] = {(unsigned char)u, (unsigned char)(u >> 8), (unsigned char)(u >> 16),
                          (unsigned char)(u >> 24)};
    if (fwrite(b, 1, size, f) != size)
      what = "write";
  }
  if (!what && (fflush(f) != 0 || fsync(fileno(f)) != 0))
    what = "flush";
  int saved = errno;
  if (f ? fclose(f) != 0 : close(fd) != 0) {
    if (!what)
      saved = errno, what = "close";
  }
  if (!what && rename(tmp, path) != 0)
    saved = errno, what = "rename";
  if (what) {
    unlink(tmp);
    free(tmp);
    return fail(NPY_ERR_IO, err, cap, "%s failed: %s", what, strerror(saved));
  }
  free(tmp);
  return NPY_OK;
}

void npy_free(npy_array *a) {
  free(a->data);
  memset(a, 0, sizeof *a);
}
