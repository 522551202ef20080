/* The kernel's tracepoint format files ("name:", "ID:", "field:..."
 * lines), parsed into an event id and field offsets and sizes, so that
 * nothing about a sched event's layout is hard-coded (it changes across
 * kernels: on 6.18 sched_migrate_task's comm is a __data_loc string).
 * Pure: any thread. */
#ifndef TL_OBSERVER_SCHED_FORMAT_H
#define TL_OBSERVER_SCHED_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TL_SCHED_FMT_MAX_FIELDS 24

typedef struct tl_sched_field {
  char name[32];
  int offset, size;
  bool data_loc; /* __data_loc: a u32 (len << 16 | offset) at offset */
  bool is_signed;
} tl_sched_field;

typedef struct tl_sched_format {
  char name[32];
  int id; /* the tracepoint id (perf_event_attr.config) */
  int nfields;
  tl_sched_field fields[TL_SCHED_FMT_MAX_FIELDS];
} tl_sched_format;

/* Parses len bytes of a format file; 0 on success, -1 when it has no
 * name, no ID, or a field line that does not parse (*out is then
 * unusable). */
int tl_sched_format_parse(const char *text, size_t len, tl_sched_format *out);

/* The field called name, or NULL. */
const tl_sched_field *tl_sched_format_field(const tl_sched_format *f,
                                            const char *name);

/* Reads an integer field (size 1, 2, 4 or 8, sign-extended when signed)
 * from a raw record of rawlen bytes; false when it lies outside it. */
bool tl_sched_field_int(const tl_sched_field *fd, const uint8_t *raw,
                        size_t rawlen, int64_t *out);

/* Copies a string field (a fixed char array or a __data_loc string) into
 * out (cap bytes, always terminated); false when it lies outside raw. */
bool tl_sched_field_str(const tl_sched_field *fd, const uint8_t *raw,
                        size_t rawlen, char *out, size_t cap);

#endif
