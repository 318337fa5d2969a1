#include "peak.h"
#include "timing.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char clconv__src_peak[]; /* bench/peak.cl, embedded at build time */

static int fail(char *err, size_t cap, const char *what, cl_int code) {
  snprintf(err, cap, "peak: %s failed (%d)", what, (int)code);
  return -1;
}

/* Device time of one launch, in seconds; < 0 on error. */
static double launch(cl_command_queue q, cl_kernel k, size_t global, size_t local) {
  cl_event ev;
  if (clEnqueueNDRangeKernel(q, k, 1, NULL, &global, &local, 0, NULL, &ev) != CL_SUCCESS)
    return -1.0;
  cl_ulong t0 = 0, t1 = 0;
  cl_int e = clWaitForEvents(1, &ev);
  if (e == CL_SUCCESS)
    e = clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL);
  if (e == CL_SUCCESS)
    e = clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL);
  clReleaseEvent(ev);
  return e == CL_SUCCESS ? (double)(t1 - t0) * 1e-9 : -1.0;
}

/* peak_fma's arguments: its output, the loop's length and the fma's two constants. */
static cl_int fma_args(cl_kernel k, cl_mem out, cl_int iters, cl_float a, cl_float b) {
  cl_int e = clSetKernelArg(k, 0, sizeof out, &out);
  if (e == CL_SUCCESS)
    e = clSetKernelArg(k, 1, sizeof iters, &iters);
  if (e == CL_SUCCESS)
    e = clSetKernelArg(k, 2, sizeof a, &a);
  if (e == CL_SUCCESS)
    e = clSetKernelArg(k, 3, sizeof b, &b);
  return e;
}

static cl_program build(cl_context cl, cl_device_id dev, int width, cl_int *err) {
  const char *src = clconv__src_peak;
  cl_program p = clCreateProgramWithSource(cl, 1, &src, NULL, err);
  if (!p)
    return NULL;
  char opts[64];
  snprintf(opts, sizeof opts, "-cl-std=CL1.2 -DW=%d", width);
  if ((*err = clBuildProgram(p, 1, &dev, opts, NULL, NULL)) != CL_SUCCESS) {
    clReleaseProgram(p);
    return NULL;
  }
  return p;
}

/* Best FMA rate of one vector width: iterations grow until a launch takes >= 20 ms, then the best of 3. */
static int fma_rate(cl_context cl, cl_device_id dev, cl_command_queue q, int width, size_t global, double *gflops,
                    char *err, size_t cap) {
  cl_int e;
  cl_program p = build(cl, dev, width, &e);
  if (!p)
    return fail(err, cap, "building peak_fma", e);
  cl_kernel k = clCreateKernel(p, "peak_fma", &e);
  cl_mem out = k ? clCreateBuffer(cl, CL_MEM_WRITE_ONLY, global * (size_t)width * sizeof(float), NULL, &e) : NULL;
  int rc = 0;
  if (!out) {
    rc = fail(err, cap, "setting up peak_fma", e);
  } else {
    size_t local = 64, kwg = 0;
    if (clGetKernelWorkGroupInfo(k, dev, CL_KERNEL_WORK_GROUP_SIZE, sizeof kwg, &kwg, NULL) == CL_SUCCESS &&
        kwg < local)
      local = kwg;
    cl_int iters = 64;
    double best = 0.0;
    /* grow the loop until one launch takes >= 20 ms, then keep the best of three at that length */
    for (int timed = 0; timed < 3;) {
      e = fma_args(k, out, iters, 0.999f, 0.001f);
      double t = e == CL_SUCCESS ? launch(q, k, global, local) : -1.0;
      if (t <= 0.0) {
        rc = fail(err, cap, "running peak_fma", e);
        break;
      }
      if (t < 0.02 && iters < (1 << 22)) {
        iters *= 2;
        continue;
      }
      double rate = (double)global * iters * 8.0 * width * 2.0 / t * 1e-9;
      if (rate > best)
        best = rate;
      timed++;
    }
    *gflops = best;
  }
  if (out)
    clReleaseMemObject(out);
  if (k)
    clReleaseKernel(k);
  clReleaseProgram(p);
  return rc;
}

static int copy_rate(cl_context cl, cl_device_id dev, cl_command_queue q, double *gbps, double *mib, char *err,
                     size_t cap) {
  cl_ulong max_alloc = 0;
  cl_int e = clGetDeviceInfo(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, NULL);
  if (e != CL_SUCCESS)
    return fail(err, cap, "clGetDeviceInfo", e);
  size_t bytes = 256u << 20; /* well past every cache, small enough for any device */
  while (bytes > max_alloc / 2 && bytes > (1u << 20))
    bytes /= 2;
  cl_program p = build(cl, dev, 1, &e);
  if (!p)
    return fail(err, cap, "building peak_copy", e);
  cl_kernel k = clCreateKernel(p, "peak_copy", &e);
  cl_mem src = k ? clCreateBuffer(cl, CL_MEM_READ_ONLY, bytes, NULL, &e) : NULL;
  cl_mem dst = src ? clCreateBuffer(cl, CL_MEM_WRITE_ONLY, bytes, NULL, &e) : NULL;
  int rc = 0;
  if (!dst) {
    rc = fail(err, cap, "setting up peak_copy", e);
  } else {
    cl_float zero = 0.0f;
    e = clEnqueueFillBuffer(q, src, &zero, sizeof zero, 0, bytes, 0, NULL, NULL);
    if (e == CL_SUCCESS)
      e = clSetKernelArg(k, 0, sizeof src, &src);
    if (e == CL_SUCCESS)
      e = clSetKernelArg(k, 1, sizeof dst, &dst);
    double best = 0.0;
    for (int rep = 0; rep < 5 && e == CL_SUCCESS; rep++) {
      double t = launch(q, k, bytes / 16, 64);
      if (t <= 0.0) {
        e = CL_INVALID_VALUE;
        break;
      }
      if (2.0 * bytes / t * 1e-9 > best)
        best = 2.0 * bytes / t * 1e-9;
    }
    if (e != CL_SUCCESS)
      rc = fail(err, cap, "running peak_copy", e);
    *gbps = best;
    *mib = (double)bytes / (1 << 20);
  }
  if (dst)
    clReleaseMemObject(dst);
  if (src)
    clReleaseMemObject(src);
  if (k)
    clReleaseKernel(k);
  clReleaseProgram(p);
  return rc;
}

/* The wall time of a launch that does nothing (peak_fma with no iterations on one work-item): each waited on
 * (clFinish), and 64 back to back before one wait, per launch; medians of 101 and 21 such measurements. */
#define LAUNCH_WAITS 101
#define LAUNCH_CHAINS 21
#define LAUNCH_CHAIN 64
static int launch_cost(cl_context cl, cl_device_id dev, cl_command_queue q, double *wait_us, double *chain_us,
                       char *err, size_t cap) {
  cl_int e;
  cl_program p = build(cl, dev, 1, &e);
  if (!p)
    return fail(err, cap, "building peak_fma", e);
  cl_kernel k = clCreateKernel(p, "peak_fma", &e);
  cl_mem out = k ? clCreateBuffer(cl, CL_MEM_WRITE_ONLY, sizeof(float), NULL, &e) : NULL;
  const size_t one = 1;
  if (out)
    e = fma_args(k, out, 0, 1.0f, 0.0f); /* no iterations: the launch alone */
  double waits[LAUNCH_WAITS], chains[LAUNCH_CHAINS];
  for (int i = -10; out && e == CL_SUCCESS && i < LAUNCH_WAITS; i++) { /* the first 10 warm up */
    double t0 = bench_now_s();
    e = clEnqueueNDRangeKernel(q, k, 1, NULL, &one, &one, 0, NULL, NULL);
    if (e == CL_SUCCESS)
      e = clFinish(q);
    if (i >= 0)
      waits[i] = (bench_now_s() - t0) * 1e6;
  }
  for (int i = 0; out && e == CL_SUCCESS && i < LAUNCH_CHAINS; i++) {
    double t0 = bench_now_s();
    for (int j = 0; e == CL_SUCCESS && j < LAUNCH_CHAIN; j++)
      e = clEnqueueNDRangeKernel(q, k, 1, NULL, &one, &one, 0, NULL, NULL);
    if (e == CL_SUCCESS)
      e = clFinish(q);
    chains[i] = (bench_now_s() - t0) * 1e6 / LAUNCH_CHAIN;
  }
  int rc = 0;
  if (!out || e != CL_SUCCESS) {
    rc = fail(err, cap, "timing an empty launch", e);
  } else {
    qsort(waits, LAUNCH_WAITS, sizeof *waits, bench_cmp_double);
    qsort(chains, LAUNCH_CHAINS, sizeof *chains, bench_cmp_double);
    *wait_us = waits[LAUNCH_WAITS / 2];
    *chain_us = chains[LAUNCH_CHAINS / 2];
  }
  if (out)
    clReleaseMemObject(out);
  if (k)
    clReleaseKernel(k);
  clReleaseProgram(p);
  return rc;
}

int bench_peak_measure(clconv_context *ctx, bench_peak *out, char *err, size_t cap) {
  cl_context cl;
  cl_device_id dev;
  cl_command_queue q = clconv_context_queue(ctx);
  memset(out, 0, sizeof *out);
  if (clconv_context_get_cl(ctx, &cl, &dev) != CLCONV_OK)
    return fail(err, cap, "clconv_context_get_cl", 0);
  cl_uint cu = 1;
  cl_int e = clGetDeviceInfo(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
  if (e != CL_SUCCESS)
    return fail(err, cap, "clGetDeviceInfo", e);
  /* enough work-items to fill every compute unit several times over, on a GPU or a CPU */
  size_t global = (size_t)cu * 2048;
  static const int widths[] = {1, 4, 8, 16};
  for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
    double g = 0.0;
    if (fma_rate(cl, dev, q, widths[i], global, &g, err, cap))
      return -1;
    if (g > out->fma_gflops) {
      out->fma_gflops = g;
      out->fma_width = widths[i];
    }
  }
  if (copy_rate(cl, dev, q, &out->copy_gbps, &out->copy_mib, err, cap))
    return -1;
  return launch_cost(cl, dev, q, &out->launch_wait_us, &out->launch_chain_us, err, cap);
}
