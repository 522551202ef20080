#include "config.h"

#include "core/options.h"
#include "base/cpulist.h"
#include "base/util.h"
#include "exec/coro_switch.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum {
  OPT_HOST = 256,
  OPT_PORT,
  OPT_ADMIN_PORT,
  OPT_MODE,
  OPT_THREADS,
  OPT_PIN,
  OPT_DOCROOT,
  OPT_WWW,
  OPT_SAMPLE_MS,
  OPT_NO_STATS,
  OPT_MAX_CONNS,
  OPT_QUEUE_MAX,
  OPT_MAX_HEADER,
  OPT_MAX_BODY,
  OPT_BODY_MIN_RATE,
  OPT_HEADER_TIMEOUT,
  OPT_IDLE_TIMEOUT,
  OPT_SHUTDOWN_TIMEOUT,
  OPT_NO_URING,
  OPT_QUIET,
  OPT_VERSION,
  OPT_HELP,
  OPT_CORO_STACK,
  OPT_CORO_SLICE,
  OPT_CORO_SWITCH,
  OPT_LOOPS,
  OPT_PROCESSES,
  OPT_SPARE_WORKERS,
  OPT_ALLOW_CRASH,
  OPT_ALLOW_DEADLOCK,
  OPT_WORKER_OF,
  OPT_SCHED_TRACE,
  OPT_CPUS
};

static const struct option long_opts[] = {
    {"host", required_argument, NULL, OPT_HOST},
    {"port", required_argument, NULL, OPT_PORT},
    {"admin-port", required_argument, NULL, OPT_ADMIN_PORT},
    {"mode", required_argument, NULL, OPT_MODE},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"pin", no_argument, NULL, OPT_PIN},
    {"cpus", required_argument, NULL, OPT_CPUS},
    {"docroot", required_argument, NULL, OPT_DOCROOT},
    {"www", required_argument, NULL, OPT_WWW},
    {"sample-ms", required_argument, NULL, OPT_SAMPLE_MS},
    {"no-stats", no_argument, NULL, OPT_NO_STATS},
    {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
    {"queue-max", required_argument, NULL, OPT_QUEUE_MAX},
    {"max-header-bytes", required_argument, NULL, OPT_MAX_HEADER},
    {"max-body-bytes", required_argument, NULL, OPT_MAX_BODY},
    {"body-min-rate", required_argument, NULL, OPT_BODY_MIN_RATE},
    {"header-timeout-ms", required_argument, NULL, OPT_HEADER_TIMEOUT},
    {"idle-timeout-ms", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"shutdown-timeout-ms", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT},
    {"no-uring", no_argument, NULL, OPT_NO_URING},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"coro-stack-kib", required_argument, NULL, OPT_CORO_STACK},
    {"coro-slice-ms", required_argument, NULL, OPT_CORO_SLICE},
    {"coro-switch", required_argument, NULL, OPT_CORO_SWITCH},
    {"loops", required_argument, NULL, OPT_LOOPS},
    {"processes", required_argument, NULL, OPT_PROCESSES},
    {"spare-workers", required_argument, NULL, OPT_SPARE_WORKERS},
    {"allow-crash", no_argument, NULL, OPT_ALLOW_CRASH},
    {"allow-deadlock", no_argument, NULL, OPT_ALLOW_DEADLOCK},
    {"sched-trace", required_argument, NULL, OPT_SCHED_TRACE},
    {"worker-of", required_argument, NULL, OPT_WORKER_OF},
    {"version", no_argument, NULL, OPT_VERSION},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0}};

static int is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void default_www(char *out, size_t cap) {
  /* Prefer the installed copy; fall back to the source tree so that a
   * freshly built, uninstalled binary finds its dashboard. */
  const char *cands[] = {TL_PKGDATADIR "/www", TL_SRCDIR "/www"};
  for (size_t i = 0; i < TL_ARRAY_SIZE(cands); i++) {
    if (is_dir(cands[i])) {
      snprintf(out, cap, "%s", cands[i]);
      return;
    }
  }
  snprintf(out, cap, "%s", cands[1]);
}

void tl_options_defaults(tl_config *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  snprintf(cfg->host, sizeof(cfg->host), "127.0.0.1");
  cfg->port = 8080;
  cfg->admin_port = 8081;
  cfg->mode = TL_MODE_POOL;
  /* One worker per CPU the process may use (taskset, cpuset): more would
   * only take turns on them. */
  cpu_set_t mine;
  tl_cpulist_self(&mine);
  cfg->threads = CPU_COUNT(&mine) > 0 ? CPU_COUNT(&mine) : 1;
  cfg->pin = false;
  default_www(cfg->www, sizeof(cfg->www));
  snprintf(cfg->docroot, sizeof(cfg->docroot), "%s", cfg->www);
  cfg->sample_ms = 500;
  cfg->max_conns = 16384;
  cfg->queue_max = 4096;
  cfg->max_header_bytes = 8192;
  cfg->max_body_bytes = 1024 * 1024;
  cfg->body_min_rate = 1024;
  cfg->header_timeout_ms = 10000;
  cfg->idle_timeout_ms = 30000;
  cfg->shutdown_timeout_ms = 10000;
  cfg->coro_stack_kib = 64;
  cfg->coro_slice_ms = 0;
  cfg->coro_switch = tl_switch_have_asm() ? TL_SWITCH_ASM : TL_SWITCH_UCONTEXT;
  cfg->loops = 1;
  cfg->processes = 0;
  cfg->spare_workers = -1; /* 1 with --processes */
  cfg->worker_index = -1;
  cfg->worker_shm_fd = cfg->worker_chan_fd = -1;
}

void tl_options_usage(FILE *out) {
  fputs(
      "Usage: threadlab [options]\n"
      "An HTTP/1.1 server that shows how its threads, tasks and cores run.\n"
      "\n"
      "HTTP:\n"
      "  --host ADDR              workload listener address (127.0.0.1)\n"
      "  --port N                 workload listener port (8080; 0 = any free)\n"
      "  --admin-port N           observer port: dashboard, /stats, /metrics,\n"
      "                           /control, /lab (8081; 0 = any free)\n"
      "  --docroot DIR            directory served under /static/ (www/)\n"
      "  --www DIR                the dashboard's files (installed or in-tree "
      "www/)\n"
      "  --no-uring               one write(2) per connection instead of one\n"
      "                           io_uring submission per loop iteration\n"
      "Modes (how tasks run):\n"
      "  --mode async|pool|hybrid|coro  how tasks run (pool)\n"
      "  --threads N              worker threads, 1..1024 (the CPUs the "
      "process\n"
      "                           may use)\n"
      "  --pin                    pin worker i to the (i mod n)-th of the n "
      "cores\n"
      "                           the process may use (taskset, cpuset)\n"
      "  --cpus LIST              the CPUs worker threads may run on, e.g. 0,\n"
      "                           0-1, 0,2-3; within the ones the process may\n"
      "                           use; --pin picks within them (all of them)\n"
      "Coroutines (--mode coro):\n"
      "  --coro-stack-kib N       each coroutine's stack, 16..8192 KiB, plus "
      "a\n"
      "                           guard page (64)\n"
      "  --coro-slice-ms N        a CPU step yields after every N ms of its "
      "CPU,\n"
      "                           0..10000; 0 = never (0); live too:\n"
      "                           /control?coro_slice_ms=N\n"
      "  --coro-switch asm|ucontext  the user-level switch: our x86-64 "
      "routine\n"
      "                           or glibc's swapcontext (asm where built)\n"
      "Processes and loops:\n"
      "  --loops N                event-loop threads, 1..64, each with its "
      "own\n"
      "                           listener on the port (SO_REUSEPORT) (1)\n"
      "  --processes N            N worker processes, 0..64, under a "
      "supervisor\n"
      "                           that restarts them and shows them as one\n"
      "                           server; 0 = one process (0)\n"
      "  --spare-workers N        pre-started spare worker processes, 0..4,\n"
      "                           that take a dead worker's place at once\n"
      "                           (1 with --processes; 0 = off)\n"
      "  --allow-crash            let the `crash` step kill its process\n"
      "  --allow-deadlock         let the `deadlock` step hang two threads for "
      "ever\n"
      "Statistics:\n"
      "  --sample-ms N            statistics period, 50..60000 ms (500)\n"
      "  --no-stats               turn statistics collection off\n"
      "  --sched-trace auto|off|on  trace our threads' context switches (the\n"
      "                           \"Cores, live\" lanes, GET /sched): auto =\n"
      "                           while someone watches; tracepoints as root,\n"
      "                           else PERF_RECORD_SWITCH, else sampled "
      "(auto)\n"
      "Lab (no options of its own):\n"
      "  the dashboard's Lab (GET /lab, POST /lab/run?id=ID on the admin "
      "port)\n"
      "  runs each idea as an experiment: it applies the setup live, loads "
      "this\n"
      "  server with wrk (Debian package wrk) for up to 20 s and compares the\n"
      "  measurement with the model's prediction\n"
      "Limits:\n"
      "  --max-conns N            open workload connections (16384)\n"
      "  --queue-max N            tasks waiting for a worker; beyond: 503 "
      "(4096)\n"
      "  --max-header-bytes N     request line + headers; beyond: 431 (8192)\n"
      "  --max-body-bytes N       request body; beyond: 413 (1048576)\n"
      "  --body-min-rate BYTES    bytes per second a request body must keep "
      "up,\n"
      "                           over a sliding window after its first "
      "second;\n"
      "                           slower: 408 and close (1024; 0 = off)\n"
      "  --header-timeout-ms N    time to receive a request's headers; then "
      "408 (10000)\n"
      "  --idle-timeout-ms N      keep-alive idle time before closing (30000)\n"
      "  --shutdown-timeout-ms N  on SIGINT/SIGTERM, wait this long for\n"
      "                           in-flight tasks (10000)\n"
      "Other:\n"
      "  --quiet                  no startup banner\n"
      "  --version                print the version and exit\n"
      "  -h, --help               print this help and exit\n",
      out);
}

/* Strict integer parse: the whole string, within [lo, hi]. */
static int parse_long(const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end != '\0' || v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}

int tl_options_parse(tl_config *cfg, int argc, char **argv, FILE *out,
                     FILE *err) {
  int c;
  long v;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
    const char *name = NULL;
    long lo = 0, hi = 0;
    int *ip = NULL;
    long *lp = NULL;
    switch (c) {
    case OPT_HOST:
      if (strlen(optarg) >= sizeof(cfg->host)) {
        fprintf(err, "threadlab: --host: address too long\n");
        return -1;
      }
      snprintf(cfg->host, sizeof(cfg->host), "%s", optarg);
      continue;
    case OPT_PORT:
      name = "--port";
      lo = 0;
      hi = 65535;
      ip = &cfg->port;
      break;
    case OPT_ADMIN_PORT:
      name = "--admin-port";
      lo = 0;
      hi = 65535;
      ip = &cfg->admin_port;
      break;
    case OPT_THREADS:
      name = "--threads";
      lo = 1;
      hi = TL_MAX_THREADS;
      ip = &cfg->threads;
      break;
    case OPT_SAMPLE_MS:
      name = "--sample-ms";
      lo = 50;
      hi = 60000;
      ip = &cfg->sample_ms;
      break;
    case OPT_MAX_CONNS:
      name = "--max-conns";
      lo = 1;
      hi = 1000000;
      ip = &cfg->max_conns;
      break;
    case OPT_QUEUE_MAX:
      name = "--queue-max";
      lo = 1;
      hi = 1000000;
      ip = &cfg->queue_max;
      break;
    case OPT_MAX_HEADER:
      name = "--max-header-bytes";
      lo = 256;
      hi = 1 << 20;
      ip = &cfg->max_header_bytes;
      break;
    case OPT_MAX_BODY:
      name = "--max-body-bytes";
      lo = 0;
      hi = 1L << 30;
      lp = &cfg->max_body_bytes;
      break;
    case OPT_BODY_MIN_RATE:
      name = "--body-min-rate";
      lo = 0;
      hi = 1L << 30;
      lp = &cfg->body_min_rate;
      break;
    case OPT_HEADER_TIMEOUT:
      name = "--header-timeout-ms";
      lo = 10;
      hi = 3600000;
      ip = &cfg->header_timeout_ms;
      break;
    case OPT_IDLE_TIMEOUT:
      name = "--idle-timeout-ms";
      lo = 10;
      hi = 3600000;
      ip = &cfg->idle_timeout_ms;
      break;
    case OPT_CORO_STACK:
      name = "--coro-stack-kib";
      lo = TL_CORO_STACK_KIB_MIN;
      hi = TL_CORO_STACK_KIB_MAX;
      ip = &cfg->coro_stack_kib;
      break;
    case OPT_CORO_SLICE:
      name = "--coro-slice-ms";
      lo = 0;
      hi = 10000;
      ip = &cfg->coro_slice_ms;
      break;
    case OPT_CORO_SWITCH: {
      tl_switch_kind k;
      if (tl_switch_parse(optarg, &k) != 0) {
        fprintf(
            err, "threadlab: --coro-switch: '%s' is not one of %s\n", optarg,
            tl_switch_have_asm() ? "asm, ucontext"
                                 : "ucontext (no asm routine for this CPU)");
        return -1;
      }
      cfg->coro_switch = (int) k;
      continue;
    }
    case OPT_LOOPS:
      name = "--loops";
      lo = 1;
      hi = TL_MAX_LOOPS;
      ip = &cfg->loops;
      break;
    case OPT_PROCESSES:
      name = "--processes";
      lo = 0;
      hi = TL_MAX_PROCESSES;
      ip = &cfg->processes;
      break;
    case OPT_SPARE_WORKERS:
      name = "--spare-workers";
      lo = 0;
      hi = TL_MAX_SPARES;
      ip = &cfg->spare_workers;
      break;
    case OPT_ALLOW_CRASH: cfg->allow_crash = true; continue;
    case OPT_ALLOW_DEADLOCK: cfg->allow_deadlock = true; continue;
    case OPT_SCHED_TRACE:
      if (strcmp(optarg, "auto") == 0)
        cfg->sched_trace = TL_SCHED_TRACE_AUTO;
      else if (strcmp(optarg, "off") == 0)
        cfg->sched_trace = TL_SCHED_TRACE_OFF;
      else if (strcmp(optarg, "on") == 0)
        cfg->sched_trace = TL_SCHED_TRACE_ON;
      else {
        fprintf(err,
                "threadlab: --sched-trace: '%s' is not one of auto, off, on\n",
                optarg);
        return -1;
      }
      continue;
    case OPT_WORKER_OF: {
      /* SLOT,SHMFD,CHANFD[,spare]: set by the supervisor, not documented. */
      int spare = 0,
          k = sscanf(optarg, "%d,%d,%d,%d", &cfg->worker_index,
                     &cfg->worker_shm_fd, &cfg->worker_chan_fd, &spare);
      if (k < 3 || cfg->worker_index < 0 ||
          cfg->worker_index >= TL_MAX_PROCESSES + TL_MAX_SPARES ||
          cfg->worker_shm_fd < 0) {
        fprintf(err, "threadlab: --worker-of: bad value\n");
        return -1;
      }
      cfg->worker_spare = k == 4 && spare == 1;
      continue;
    }
    case OPT_SHUTDOWN_TIMEOUT:
      name = "--shutdown-timeout-ms";
      lo = 0;
      hi = 3600000;
      ip = &cfg->shutdown_timeout_ms;
      break;
    case OPT_MODE:
      if (tl_mode_parse(optarg, &cfg->mode) != 0) {
        fprintf(
            err,
            "threadlab: --mode: '%s' is not one of async, pool, hybrid, coro\n",
            optarg);
        return -1;
      }
      continue;
    case OPT_PIN: cfg->pin = true; continue;
    case OPT_CPUS: {
      cpu_set_t inherited;
      tl_cpulist_self(&inherited);
      const char *why =
          tl_cpulist_parse(optarg, strlen(optarg), &cfg->cpus) != 0
              ? "not a CPU list (e.g. 0, 0-1, 0,2-3)"
              : tl_cpulist_check(&cfg->cpus, &inherited);
      if (why) {
        char may[256];
        tl_cpulist_format(&inherited, may, sizeof(may));
        fprintf(err, "threadlab: --cpus: '%s': %s (this process may use %s)\n",
                optarg, why, may);
        return -1;
      }
      cfg->has_cpus = true;
      continue;
    }
    case OPT_NO_STATS: cfg->no_stats = true; continue;
    case OPT_NO_URING: cfg->no_uring = true; continue;
    case OPT_QUIET: cfg->quiet = true; continue;
    case OPT_DOCROOT:
    case OPT_WWW: {
      char *dst = c == OPT_DOCROOT ? cfg->docroot : cfg->www;
      if (!is_dir(optarg)) {
        fprintf(err, "threadlab: %s: '%s' is not a directory\n",
                c == OPT_DOCROOT ? "--docroot" : "--www", optarg);
        return -1;
      }
      if (strlen(optarg) >= sizeof(cfg->docroot)) {
        fprintf(err, "threadlab: path too long\n");
        return -1;
      }
      snprintf(dst, sizeof(cfg->docroot), "%s", optarg);
      continue;
    }
    case OPT_VERSION: fprintf(out, "threadlab %s\n", PACKAGE_VERSION); return 1;
    case OPT_HELP:
    case 'h': tl_options_usage(out); return 1;
    case ':':
      fprintf(err, "threadlab: option '%s' needs a value\n", argv[optind - 1]);
      fprintf(err, "Try 'threadlab --help'.\n");
      return -1;
    default:
      fprintf(err, "threadlab: unknown option '%s'\n", argv[optind - 1]);
      fprintf(err, "Try 'threadlab --help'.\n");
      return -1;
    }
    if (parse_long(optarg, lo, hi, &v) != 0) {
      fprintf(err, "threadlab: %s: '%s' is not a whole number in %ld..%ld\n",
              name, optarg, lo, hi);
      return -1;
    }
    if (ip)
      *ip = (int) v;
    else
      *lp = v;
  }
  if (cfg->spare_workers > 0 && cfg->processes == 0) {
    fprintf(err, "threadlab: --spare-workers needs --processes\n");
    return -1;
  }
  if (cfg->spare_workers < 0)
    cfg->spare_workers = cfg->processes > 0 ? 1 : 0;
  if (optind < argc) {
    fprintf(err, "threadlab: unexpected argument '%s'\n", argv[optind]);
    fprintf(err, "Try 'threadlab --help'.\n");
    return -1;
  }
  return 0;
}
