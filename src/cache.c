/* The per-user cache directory shared by the tuning file (tune.c) and the program binaries (program_cache.c): its
 * location, a hash, and atomic writes.
 * Nothing here fails a call: callers fall back to memory and say why in a context note. */
#define _POSIX_C_SOURCE 200809L /* mkdir, getpid */
#include "internal.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

bool clconv__cache_dir(char *dir, size_t cap) {
  const char *d = getenv("CLCONV_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  int n = d && *d         ? snprintf(dir, cap, "%s", d)
          : xdg && *xdg   ? snprintf(dir, cap, "%s/clconv", xdg)
          : home && *home ? snprintf(dir, cap, "%s/.cache/clconv", home)
                          : -1;
  return n > 0 && (size_t)n < cap;
}

uint64_t clconv__fnv(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

bool clconv__cache_mkdir(const char *dir, char *why, size_t cap) {
  char parent[1024]; /* ~/.cache may not exist yet */
  snprintf(parent, sizeof parent, "%s", dir);
  char *slash = strrchr(parent, '/');
  if (slash && slash != parent) {
    *slash = '\0';
    mkdir(parent, 0755);
  }
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    snprintf(why, cap, "cannot create %s: %s", dir, strerror(errno));
    return false;
  }
  return true;
}

FILE *clconv__cache_open_tmp(const clconv_context *ctx, const char *path, char *tmp, size_t tcap, char *why,
                             size_t cap) {
  /* per process and per context: two threads of one process may write the same entry at once */
  snprintf(tmp, tcap, "%.1100s.%ld.%p.tmp", path, (long)getpid(), (const void *)ctx);
  FILE *f = fopen(tmp, "wb");
  if (!f)
    snprintf(why, cap, "cannot write %s: %s", tmp, strerror(errno));
  return f;
}

bool clconv__cache_commit(FILE *f, const char *tmp, const char *path, char *why, size_t cap) {
  bool ok = !ferror(f);
  ok = fclose(f) == 0 && ok;
  if (!ok || rename(tmp, path) != 0) {
    snprintf(why, cap, "cannot write %s: %s", path, strerror(errno));
    remove(tmp);
    return false;
  }
  return true;
}
