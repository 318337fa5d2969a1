/* Network descriptions: parsing (grammar in bench/nets/README.md) and the shapes of every layer. */
#include "net.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bench_net_free(bench_net *net) {
  free(net->layers);
  memset(net, 0, sizeof *net);
}

const uint32_t *bench_net_dims(const bench_net *net, size_t t, uint32_t *nd) {
  *nd = t ? net->layers[t - 1].nd : net->nd;
  return t ? net->layers[t - 1].out : net->in;
}

static bool plain_name(const char *s) {
  return *s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == strlen(s);
}

/* The tensor a layer name refers to: 0 for "input", i + 1 for layer i (declared above), -1 if none. */
static long tensor_of(const bench_net *net, const char *name) {
  if (!strcmp(name, "input"))
    return 0;
  for (size_t i = 0; i < net->n; i++)
    if (!strcmp(net->layers[i].c.name, name))
      return (long)i + 1;
  return -1;
}

/* "64x56x56" from dims (the spatial part of an N C ... shape). */
static void spatial_str(const uint32_t *dims, uint32_t nd, char *buf, size_t cap) {
  size_t at = 0;
  buf[0] = '\0';
  for (uint32_t i = 2; i < nd && at < cap; i++)
    at += (size_t)snprintf(buf + at, cap - at, "%s%u", i > 2 ? "x" : "", dims[i]);
}

/* Does the descriptor's field list give key= itself? */
static bool has_field(const char *desc, const char *key) {
  size_t k = strlen(key);
  for (const char *p = strchr(desc, ':'); p; p = strchr(p + 1, ','))
    if (!strncmp(p + 1, key, k) && p[1 + k] == '=')
      return true;
  return false;
}

/* One layer line: NAME [from=LAYER] [add=LAYER] [bn] OP:FIELDS. */
static int parse_layer(bench_net *net, char *line, uint32_t batch, char *err, size_t cap) {
  bench_net_layer *l = &net->layers[net->n];
  memset(l, 0, sizeof *l);
  char *tok[8];
  int nt = 0;
  for (char *t = strtok(line, " \t"); t; t = strtok(NULL, " \t"))
    if (nt < 8)
      tok[nt++] = t;
    else
      return bench_fail(err, cap, "too many words (NAME [from=LAYER] [add=LAYER] [bn] OP:FIELDS)");
  if (nt < 2 || !strchr(tok[nt - 1], ':'))
    return bench_fail(err, cap, "expected NAME [from=LAYER] [add=LAYER] [bn] OP:FIELDS");
  const char *name = tok[0], *desc = tok[nt - 1];
  if (!plain_name(name) || strlen(name) >= sizeof l->c.name || !strcmp(name, "input"))
    return bench_fail(err, cap, "layer name \"%s\": up to %zu letters, digits, '_', '.' or '-', not \"input\"", name,
                sizeof l->c.name - 1);
  if (tensor_of(net, name) > 0)
    return bench_fail(err, cap, "layer name \"%s\" used twice", name);
  long src = (long)net->n, add = -1; /* the line above by default */
  bool seen_from = false;
  for (int i = 1; i < nt - 1; i++) {
    bool from = !strncmp(tok[i], "from=", 5), res = !strncmp(tok[i], "add=", 4);
    if (!strcmp(tok[i], "bn")) {
      if (l->bn)
        return bench_fail(err, cap, "bn given twice");
      l->bn = true;
    } else if (from || res) {
      const char *ref = tok[i] + (from ? 5 : 4);
      long t = tensor_of(net, ref);
      if (t < 0)
        return bench_fail(err, cap, "%s: no layer \"%s\" above this line", tok[i], ref);
      if ((from && seen_from) || (res && add >= 0))
        return bench_fail(err, cap, "%s given twice", from ? "from=" : "add=");
      if (res && t == 0)
        return bench_fail(err, cap, "add=input: the residual must be a layer's output");
      *(from ? &src : &add) = t;
      seen_from = seen_from || from;
    } else {
      return bench_fail(err, cap, "\"%s\": expected from=LAYER, add=LAYER or bn", tok[i]);
    }
  }
  static const char *const derived[] = {"n", "c", "in", "name", "residual"};
  for (size_t i = 0; i < sizeof derived / sizeof *derived; i++)
    if (has_field(desc, derived[i]))
      return bench_fail(err, cap, "%s= comes from the network (the source's shape, the layer's name, add=)", derived[i]);
  bool conv = !strncmp(desc, "conv:", 5) || !strncmp(desc, "layer:", 6);
  if ((l->bn || add >= 0) && !conv)
    return bench_fail(err, cap, "bn and add= need a conv or layer op");
  if (l->bn && has_field(desc, "bias"))
    return bench_fail(err, cap, "bn sets the bias: drop bias=");
  uint32_t snd;
  const uint32_t *sd = bench_net_dims(net, (size_t)src, &snd);
  char sp[64], text[1024];
  spatial_str(sd, snd, sp, sizeof sp);
  int len = snprintf(text, sizeof text, "%s,name=%s,n=%u,c=%u,in=%s%s%s", desc, name, batch, sd[1], sp,
                     l->bn ? ",bias=1" : "", add >= 0 ? ",residual=1" : "");
  if (len < 0 || (size_t)len >= sizeof text)
    return bench_fail(err, cap, "descriptor too long");
  if (bench_case_parse(text, &l->c, err, cap))
    return -1;
  uint32_t xs[CLCONV_MAX_DIMS], ws[CLCONV_MAX_DIMS], zs[CLCONV_MAX_DIMS];
  l->nd = snd;
  clconv_status s = CLCONV_OK;
  if (l->c.op == BENCH_CONV)
    s = clconv_conv_shapes(&l->c.layer.conv, xs, ws, l->out);
  else if (l->c.op == BENCH_LAYER)
    s = clconv_layer_shapes(&l->c.layer, xs, ws, l->out);
  else if (l->c.op == BENCH_POOL)
    s = clconv_pool_shapes(&l->c.layer.pool, xs, l->out);
  else
    memcpy(l->out, sd, sizeof l->out);
  if (s != CLCONV_OK) /* validated by the parse: cannot happen */
    return bench_fail(err, cap, "%s", clconv_last_error(NULL));
  l->src = (size_t)src;
  if (add >= 0) {
    uint32_t and;
    const uint32_t *ad = bench_net_dims(net, (size_t)add, &and);
    clconv_conv_shapes(&l->c.layer.conv, xs, ws, zs);
    if (memcmp(ad, zs, snd * sizeof *zs)) {
      char a[64], b[64];
      spatial_str(ad, and, a, sizeof a);
      spatial_str(zs, snd, b, sizeof b);
      return bench_fail(err, cap, "add=%s: its output is %ux%s, the convolution's %ux%s", net->layers[add - 1].c.name,
                  ad[1], a, zs[1], b);
    }
    l->add = (size_t)add;
  }
  net->n++;
  return 0;
}

/* "CxW", "CxHxW" or "CxDxHxW": the input of one image. */
static int parse_input(bench_net *net, const char *v, uint32_t batch, char *err, size_t cap) {
  uint32_t d[4], n = 0;
  for (const char *p = v;;) {
    char *end;
    errno = 0;
    unsigned long x = isdigit((unsigned char)*p) ? strtoul(p, &end, 10) : 0;
    if (n == 4 || x == 0 || x > 0x7fffffffu || errno || (*end && *end != 'x'))
      return bench_fail(err, cap, "input %s: expected CxW, CxHxW or CxDxHxW, each in 1..2147483647", v);
    d[n++] = (uint32_t)x;
    if (!*end)
      break;
    p = end + 1;
  }
  if (n < 2)
    return bench_fail(err, cap, "input %s: expected CxW, CxHxW or CxDxHxW, each in 1..2147483647", v);
  net->nd = n + 1;
  net->in[0] = batch;
  memcpy(net->in + 1, d, n * sizeof *d);
  return 0;
}

int bench_net_parse(const char *name, const char *text, uint32_t batch, bench_net *net, char *err, size_t cap) {
  memset(net, 0, sizeof *net);
  snprintf(net->name, sizeof net->name, "%s", name);
  size_t lines = 1;
  for (const char *p = text; *p; p++)
    lines += *p == '\n';
  net->layers = calloc(lines, sizeof *net->layers);
  if (!net->layers)
    return bench_fail(err, cap, "%s: out of host memory", name);
  char line[1024], why[512];
  int ln = 0, rc = 0;
  for (const char *p = text; *p && !rc;) {
    size_t len = strcspn(p, "\n");
    ln++;
    if (len >= sizeof line) {
      rc = bench_fail(why, sizeof why, "line too long");
      break;
    }
    memcpy(line, p, len);
    line[len] = '\0';
    p += len + (p[len] == '\n');
    char *h = strchr(line, '#'), *s = line;
    if (h)
      *h = '\0';
    while (*s == ' ' || *s == '\t' || *s == '\r')
      s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
      *--e = '\0';
    if (!*s)
      continue;
    bool input = !strncmp(s, "input", 5) && (s[5] == ' ' || s[5] == '\t');
    if (net->nd == 0 && !input)
      rc = bench_fail(why, sizeof why, "the first line must be \"input CxW|CxHxW|CxDxHxW\"");
    else if (input && net->nd)
      rc = bench_fail(why, sizeof why, "input given twice");
    else if (input)
      rc = parse_input(net, s + 6 + strspn(s + 6, " \t"), batch, why, sizeof why);
    else
      rc = parse_layer(net, s, batch, why, sizeof why);
  }
  if (!rc && net->n == 0)
    rc = bench_fail(why, sizeof why, "no layers");
  if (rc) {
    bench_fail(err, cap, "%s: line %d: %s", name, ln, why);
    bench_net_free(net);
    return -1;
  }
  /* in place: the residual's tensor takes the output when no later layer reads it and this one does not pool */
  for (size_t i = 0; i < net->n; i++) {
    bench_net_layer *l = &net->layers[i];
    l->in_place = l->add && l->c.op == BENCH_CONV && l->add != l->src;
    for (size_t j = i + 1; l->in_place && j < net->n; j++)
      l->in_place = net->layers[j].src != l->add && net->layers[j].add != l->add;
  }
  return 0;
}

int bench_net_load(const char *spec, uint32_t batch, bench_net *net, char *err, size_t cap) {
  size_t len = strlen(spec);
  if (!strchr(spec, '/') && !(len > 4 && !strcmp(spec + len - 4, ".net"))) {
    for (unsigned long i = 0; i < bench_nets_count; i++)
      if (!strcmp(bench_nets[2 * i], spec))
        return bench_net_parse(spec, bench_nets[2 * i + 1], batch, net, err, cap);
    char names[512] = "";
    for (unsigned long i = 0; i < bench_nets_count; i++)
      snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", bench_nets[2 * i]);
    return bench_fail(err, cap, "--net %s: no such network (built in: %s; or a .net file)", spec, names);
  }
  FILE *f = fopen(spec, "rb");
  if (!f)
    return bench_fail(err, cap, "--net %s: %s", spec, strerror(errno));
  char *text = NULL;
  long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  if (size >= 0 && size < (1l << 24) && fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1)) &&
      fread(text, 1, (size_t)size, f) == (size_t)size)
    text[size] = '\0';
  else if (text) {
    free(text);
    text = NULL;
  }
  fclose(f);
  if (!text)
    return bench_fail(err, cap, "--net %s: cannot read it (or larger than 16 MiB)", spec);
  const char *base = strrchr(spec, '/');
  char name[64];
  snprintf(name, sizeof name, "%s", base ? base + 1 : spec);
  char *dot = strrchr(name, '.');
  if (dot && !strcmp(dot, ".net"))
    *dot = '\0';
  int rc = bench_net_parse(name, text, batch, net, err, cap);
  free(text);
  return rc;
}
