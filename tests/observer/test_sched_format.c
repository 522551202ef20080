/* test_sched_format.c - the tracepoint format parser on the kernel's own
 * files (tests/fixtures/sched: captured on kernel 6.18 through a private
 * mount namespace) and on handmade ones. */
#include "observer/sched_format.h"

#include <check.h>
#include "tl_check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TL_FIXTURES_DIR
#define TL_FIXTURES_DIR "tests/fixtures"
#endif

static char *load(const char *name, size_t *len) {
  char path[1024];
  snprintf(path, sizeof path, "%s/sched/%s.format", TL_FIXTURES_DIR, name);
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  char *b = malloc(65536);
  *len = fread(b, 1, 65536, f);
  fclose(f);
  /* An exact-size copy: ASan catches a read past the end. */
  char *e = malloc(*len);
  memcpy(e, b, *len);
  free(b);
  return e;
}

static void check_field(const tl_sched_format *f, const char *name, int off,
                        int size, bool loc, bool sgn) {
  const tl_sched_field *fd = tl_sched_format_field(f, name);
  ck_assert_msg(fd != NULL, "%s: no field %s", f->name, name);
  ck_assert_int_eq(fd->offset, off);
  ck_assert_int_eq(fd->size, size);
  ck_assert_int_eq(fd->data_loc, loc);
  ck_assert_int_eq(fd->is_signed, sgn);
}

START_TEST(sched_switch_layout) {
  size_t n;
  char *t = load("sched_switch", &n);
  tl_sched_format f;
  ck_assert_int_eq(tl_sched_format_parse(t, n, &f), 0);
  ck_assert_str_eq(f.name, "sched_switch");
  ck_assert_int_eq(f.id, 372);
  ck_assert_int_eq(f.nfields, 11);
  check_field(&f, "common_type", 0, 2, false, false);
  check_field(&f, "common_pid", 4, 4, false, true);
  check_field(&f, "prev_comm", 8, 16, false, false);
  check_field(&f, "prev_pid", 24, 4, false, true);
  check_field(&f, "prev_state", 32, 8, false, true);
  check_field(&f, "next_comm", 40, 16, false, false);
  check_field(&f, "next_pid", 56, 4, false, true);
  ck_assert_ptr_null(tl_sched_format_field(&f, "next"));
  free(t);
}
END_TEST

START_TEST(migrate_comm_is_data_loc) {
  size_t n;
  char *t = load("sched_migrate_task", &n);
  tl_sched_format f;
  ck_assert_int_eq(tl_sched_format_parse(t, n, &f), 0);
  ck_assert_int_eq(f.id, 371);
  check_field(&f, "comm", 8, 4, true, false);
  check_field(&f, "pid", 12, 4, false, true);
  check_field(&f, "dest_cpu", 24, 4, false, true);
  free(t);
  t = load("sched_wakeup", &n);
  ck_assert_int_eq(tl_sched_format_parse(t, n, &f), 0);
  ck_assert_int_eq(f.id, 374);
  check_field(&f, "comm", 8, 16, false, false);
  check_field(&f, "pid", 24, 4, false, true);
  free(t);
  t = load("sched_wakeup_new", &n);
  ck_assert_int_eq(tl_sched_format_parse(t, n, &f), 0);
  ck_assert_int_eq(f.id, 373);
  free(t);
}
END_TEST

START_TEST(reads_fields_from_a_raw_record) {
  size_t n;
  char *t = load("sched_migrate_task", &n);
  tl_sched_format f;
  ck_assert_int_eq(tl_sched_format_parse(t, n, &f), 0);
  free(t);
  uint8_t raw[40] = {0};
  uint32_t loc = (5u << 16) | 28u; /* "wrk1\0" at 28 */
  memcpy(raw + 8, &loc, 4);
  int32_t pid = 4242, dest = 1;
  memcpy(raw + 12, &pid, 4);
  memcpy(raw + 24, &dest, 4);
  memcpy(raw + 28, "wrk1", 5);
  int64_t v;
  ck_assert(tl_sched_field_int(tl_sched_format_field(&f, "pid"), raw, 32, &v));
  ck_assert_int_eq(v, 4242);
  char comm[16];
  ck_assert(tl_sched_field_str(tl_sched_format_field(&f, "comm"), raw, 33, comm,
                               sizeof comm));
  ck_assert_str_eq(comm, "wrk1");
  /* A __data_loc pointing past the record is refused, not read. */
  ck_assert(!tl_sched_field_str(tl_sched_format_field(&f, "comm"), raw, 30,
                                comm, sizeof comm));
  ck_assert(
      !tl_sched_field_int(tl_sched_format_field(&f, "dest_cpu"), raw, 26, &v));
  /* Signed fields sign-extend. */
  int32_t neg = -1;
  memcpy(raw + 24, &neg, 4);
  ck_assert(
      tl_sched_field_int(tl_sched_format_field(&f, "dest_cpu"), raw, 32, &v));
  ck_assert_int_eq(v, -1);
}
END_TEST

START_TEST(rejects_broken_files) {
  tl_sched_format f;
  const char *noid =
      "name: x\nformat:\n\tfield:int a;\toffset:0;\tsize:4;\tsigned:1;\n";
  ck_assert_int_eq(tl_sched_format_parse(noid, strlen(noid), &f), -1);
  const char *bad =
      "name: x\nID: 7\nformat:\n\tfield:int a;\toffset:zz;\tsize:4;\n";
  ck_assert_int_eq(tl_sched_format_parse(bad, strlen(bad), &f), -1);
  const char *ok = "name: x\nID: 7\nformat:\n\tfield:int "
                   "a;\toffset:0;\tsize:4;\tsigned:1;\n";
  ck_assert_int_eq(tl_sched_format_parse(ok, strlen(ok), &f), 0);
  ck_assert_int_eq(f.id, 7);
  /* Cut anywhere: never a crash, and never a field beyond the cut. */
  for (size_t k = 0; k < strlen(ok); k++) {
    char *c = malloc(k ? k : 1);
    memcpy(c, ok, k);
    if (tl_sched_format_parse(c, k, &f) == 0)
      ck_assert_int_le(f.nfields, 1);
    free(c);
  }
}
END_TEST

TL_CHECK_MAIN("sched_format", sched_switch_layout, migrate_comm_is_data_loc,
              reads_fields_from_a_raw_record, rejects_broken_files)
