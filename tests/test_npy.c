/* The .npy reader and writer: every supported dtype and version, a corpus of malformed files, and atomic writes. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the above first */
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "npy.h"

/* A file image: magic, version, header (padded to 64 bytes as NumPy does), then raw data bytes. */
static size_t make(unsigned char *buf, int major, const char *dict, const void *data, size_t data_len) {
  size_t hl = major == 1 ? 2 : 4, pre = 8 + hl, n = strlen(dict);
  size_t total = (pre + n + 1 + 63) / 64 * 64, hlen = total - pre;
  memcpy(buf, "\x93NUMPY", 6);
  buf[6] = (unsigned char)major;
  buf[7] = 0;
  for (size_t i = 0; i < hl; i++)
    buf[8 + i] = (unsigned char)(hlen >> (8 * i));
  memcpy(buf + pre, dict, n);
  memset(buf + pre + n, ' ', hlen - n - 1);
  buf[total - 1] = '\n';
  memcpy(buf + total, data, data_len);
  return total + data_len;
}

static void test_dtypes_and_versions(void **state) {
  (void)state;
  unsigned char buf[512];
  char err[256];
  npy_array a;
  const float f4[6] = {1, -2, 3.5f, 0, 1e-3f, 65504};
  for (int major = 1; major <= 3; major++) {
    size_t n = make(buf, major, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f4, sizeof f4);
    assert_int_equal(npy_parse(buf, n, &a, err, sizeof err), NPY_OK);
    assert_int_equal(a.ndim, 2);
    assert_true(a.shape[0] == 2 && a.shape[1] == 3 && a.count == 6 && !a.lossy);
    assert_memory_equal(a.data, f4, sizeof f4);
    npy_free(&a);
  }
  /* float64: exact values are not lossy, 0.1 is */
  const double f8[3] = {0.5, -4, 0.1};
  size_t n = make(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", f8, sizeof f8);
  assert_int_equal(npy_parse(buf, n, &a, err, sizeof err), NPY_OK);
  assert_true(a.ndim == 1 && a.data[0] == 0.5f && a.data[1] == -4.0f && a.data[2] == 0.1f && a.lossy);
  npy_free(&a);
  /* big-endian float32 */
  const unsigned char be[8] = {0x3f, 0x80, 0, 0, 0xc0, 0x00, 0, 0}; /* 1.0, -2.0 */
  n = make(buf, 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", be, sizeof be);
  assert_int_equal(npy_parse(buf, n, &a, err, sizeof err), NPY_OK);
  assert_true(a.data[0] == 1.0f && a.data[1] == -2.0f && !a.lossy);
  npy_free(&a);
  /* float16: 1.0, -2.0, 65504, inf, a subnormal */
  const uint16_t f2[5] = {0x3c00, 0xc000, 0x7bff, 0x7c00, 0x0001};
  n = make(buf, 1, "{'descr': '<f2', 'fortran_order': False, 'shape': (5,), }", f2, sizeof f2);
  assert_int_equal(npy_parse(buf, n, &a, err, sizeof err), NPY_OK);
  assert_true(a.data[0] == 1.0f && a.data[1] == -2.0f && a.data[2] == 65504.0f && isinf(a.data[3]) &&
              a.data[4] == ldexpf(1.0f, -24));
  npy_free(&a);
  /* int32 and int64; 2^24 + 1 does not fit float32 */
  const int32_t i4[3] = {-7, 16777216, 16777217};
  n = make(buf, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", i4, sizeof i4);
  assert_int_equal(npy_parse(buf, n, &a, err, sizeof err), NPY_OK);
  assert_true(a.data[0] == -7.0f && a.data[1] == 16777216.0f && a.lossy);
  npy_free(&a);
  const int64_t i8[2] = {-3, 1000};
  n = make(buf, 1, "{'shape': (1, 2), 'fortran_order': False, 'descr': '<i8'}", i8, sizeof i8); /* key order free */
  assert_int_equal(npy_parse(buf, n, &a, err, sizeof err), NPY_OK);
  assert_true(a.ndim == 2 && a.data[0] == -3.0f && a.data[1] == 1000.0f && !a.lossy);
  npy_free(&a);
  /* a scalar: shape () holds one element */
  const float one = 42.0f;
  n = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", &one, 4);
  assert_int_equal(npy_parse(buf, n, &a, err, sizeof err), NPY_OK);
  assert_true(a.ndim == 0 && a.count == 1 && a.data[0] == 42.0f);
  npy_free(&a);
}

/* Malformed files: each must fail with NPY_ERR_FORMAT and a message naming the problem; none may crash or
 * allocate what a lying header claims. */
static void test_malformed_corpus(void **state) {
  (void)state;
  static const struct {
    const char *name, *dict;
    size_t data_len;
    const char *want;
  } rows[] = {
      {"unknown dtype", "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16, "unsupported dtype '<c8'"},
      {"structured dtype", "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8,
       "unsupported dtype"},
      {"fortran order", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16, "fortran_order is True"},
      {"truncated data", "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", 16, "truncated data"},
      {"lying shape", "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }", 16, "truncated data"},
      {"trailing garbage", "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 16, "trailing garbage"},
      {"overflowing shape", "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }", 16,
       "overflows"},
      {"negative shape", "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 0, "non-negative integers"},
      {"huge shape entry", "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }", 0,
       "overflows"},
      {"not a dict", "['descr', '<f4']", 0, "not a dict"},
      {"missing shape", "{'descr': '<f4', 'fortran_order': False, }", 0, "lacks 'shape'"},
      {"unknown key", "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1, }", 4, "unknown"},
      {"repeated key", "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 4, "repeated"},
      {"bad bool", "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", 4, "neither True nor False"},
      {"unterminated string", "{'descr': '<f4", 0, "malformed"},
      {"text after dict", "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } x", 4, "after the dict"},
      {"nine dims", "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", 4, "more than 8"},
      {"bad tuple", "{'descr': '<f4', 'fortran_order': False, 'shape': (1 2), }", 4, "malformed"},
  };
  unsigned char buf[1024], zeros[64] = {0};
  char err[256];
  npy_array a;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    size_t n = make(buf, 1, rows[i].dict, zeros, rows[i].data_len);
    npy_status s = npy_parse(buf, n, &a, err, sizeof err);
    if (s != NPY_ERR_FORMAT || !strstr(err, rows[i].want))
      fail_msg("%s: status %d, \"%s\"; want \"%s\"", rows[i].name, s, err, rows[i].want);
    assert_null(a.data);
  }
  /* byte-level damage */
  size_t n = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", zeros, 8);
  static const struct {
    const char *name;
    size_t at;
    unsigned char byte;
    const char *want;
  } bytes[] = {{"bad magic", 1, 'X', "bad magic"},
               {"version 4", 6, 4, "unsupported .npy version 4"},
               {"version 0", 6, 0, "unsupported .npy version 0"},
               {"header length past the end", 9, 0x7f, "runs past the end"},
               {"NUL in header", 20, 0, "NUL"}};
  for (size_t i = 0; i < sizeof bytes / sizeof bytes[0]; i++) {
    unsigned char copy[1024];
    memcpy(copy, buf, n);
    copy[bytes[i].at] = bytes[i].byte;
    npy_status s = npy_parse(copy, n, &a, err, sizeof err);
    if (s != NPY_ERR_FORMAT || !strstr(err, bytes[i].want))
      fail_msg("%s: status %d, \"%s\"; want \"%s\"", bytes[i].name, s, err, bytes[i].want);
  }
  /* every truncation of a valid file is rejected */
  for (size_t len = 0; len < n; len++)
    assert_int_equal(npy_parse(buf, len, &a, err, sizeof err), NPY_ERR_FORMAT);
  assert_int_equal(npy_parse(buf, n, &a, err, sizeof err), NPY_OK);
  npy_free(&a);
}

static char dir[64];

static int make_dir(void **state) {
  (void)state;
  strcpy(dir, "clconv-npy-XXXXXX"); /* in the working directory: ctest runs tests in the build tree */
  return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static void test_write_round_trip(void **state) {
  (void)state;
  char path[128], err[256];
  snprintf(path, sizeof path, "%s/y.npy", dir);
  const float v[6] = {1, 2, 3, -4, 5.5f, NAN};
  const uint64_t shape1[1] = {6}, shape3[3] = {1, 2, 3};
  npy_array a;
  assert_int_equal(npy_write(path, 1, shape1, v, false, err, sizeof err), NPY_OK);
  assert_int_equal(npy_read(path, &a, err, sizeof err), NPY_OK);
  assert_true(a.ndim == 1 && a.shape[0] == 6 && !strcmp(a.dtype, "<f4"));
  assert_memory_equal(a.data, v, sizeof v);
  npy_free(&a);
  /* header padded so the data starts on a 64-byte boundary */
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal((st.st_size - 24) % 64, 0);
  assert_int_equal(npy_write(path, 3, shape3, v, false, err, sizeof err), NPY_OK); /* replaces */
  assert_int_equal(npy_read(path, &a, err, sizeof err), NPY_OK);
  assert_true(a.ndim == 3 && a.shape[2] == 3);
  npy_free(&a);
  /* float16: the bits as given, read back exactly (1, -2, 0.5, 65504, inf, NaN) */
  const uint16_t h[6] = {0x3c00, 0xc000, 0x3800, 0x7bff, 0x7c00, 0x7e00};
  const float hv[5] = {1.0f, -2.0f, 0.5f, 65504.0f, INFINITY};
  assert_int_equal(npy_write(path, 1, shape1, h, true, err, sizeof err), NPY_OK);
  assert_int_equal(npy_read(path, &a, err, sizeof err), NPY_OK);
  assert_true(a.ndim == 1 && a.shape[0] == 6 && !strcmp(a.dtype, "<f2") && !a.lossy);
  assert_memory_equal(a.data, hv, sizeof hv);
  assert_true(isnan(a.data[5]));
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal((st.st_size - 12) % 64, 0);
  npy_free(&a);
    assert_int_equal(npy_read("/nonexistent/x.npy", &a, err, sizeof err), NPY_ERR_IO);
  assert_non_null(strstr(err, "cannot open"));
  assert_int_equal(npy_read(dir, &a, err, sizeof err), NPY_ERR_IO); /* a directory */
}

/* A write that cannot complete leaves the old file as it was and no temporary file behind. */
static void test_write_failure_keeps_old_file(void **state) {
  (void)state;
  char path[128], err[256], cmd[256];
  snprintf(path, sizeof path, "%s/keep.npy", dir);
  const float v[2] = {7, 8};
  const uint64_t shape[1] = {2};
  assert_int_equal(npy_write(path, 1, shape, v, false, err, sizeof err), NPY_OK);
  /* a directory where the file should go: rename fails after the data was written */
  char as_dir[160];
  snprintf(as_dir, sizeof as_dir, "%s/isdir.npy", dir);
  assert_int_equal(mkdir(as_dir, 0700), 0);
  snprintf(cmd, sizeof cmd, "touch '%s/isdir.npy/inside'", dir);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(npy_write(as_dir, 1, shape, v, false, err, sizeof err), NPY_ERR_IO);
  assert_non_null(strstr(err, "rename failed"));
  /* a directory that does not exist */
  assert_int_equal(npy_write("/nonexistent-dir/y.npy", 1, shape, v, false, err, sizeof err), NPY_ERR_IO);
  assert_non_null(strstr(err, "temporary file"));
  /* no leftovers */
  snprintf(cmd, sizeof cmd, "ls '%s' | grep -c tmp", dir);
  FILE *p = popen(cmd, "r");
  int count = -1;
  assert_int_equal(fscanf(p, "%d", &count), 1);
  pclose(p);
  assert_int_equal(count, 0);
  npy_array a;
  assert_int_equal(npy_read(path, &a, err, sizeof err), NPY_OK);
  assert_true(a.data[0] == 7.0f && a.data[1] == 8.0f);
  npy_free(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dtypes_and_versions),
      cmocka_unit_test(test_malformed_corpus),
      cmocka_unit_test(test_write_round_trip),
      cmocka_unit_test(test_write_failure_keeps_old_file),
  };
  return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
