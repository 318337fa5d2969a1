/* The thin layer every host allocation (and, through CLCONV__CL, every OpenCL call) passes through. */
#include "internal.h"

#include <string.h>

#ifdef CLCONV_FAULT_INJECTION
#include "fault.h"
#include <stdatomic.h>

static atomic_long fault_calls, fault_target;

void clconv_fault_fail_nth(long n) {
  atomic_store(&fault_calls, 0);
  atomic_store(&fault_target, n);
}

long clconv_fault_calls(void) { return atomic_load(&fault_calls); }

bool clconv__fault(void) {
  long n = atomic_fetch_add(&fault_calls, 1) + 1;
  return n == atomic_load(&fault_target);
}
#endif

void *clconv__malloc(size_t size) { return clconv__fault() ? NULL : malloc(size ? size : 1); }

void *clconv__calloc(size_t n, size_t size) { return clconv__fault() ? NULL : calloc(n ? n : 1, size ? size : 1); }

void clconv__free(void *p) { free(p); }

char *clconv__strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = clconv__malloc(n);
  if (p)
    memcpy(p, s, n);
  return p;
}
