/* A pagemap entry read as the kernel lays it out (exec/shared_cow): bit
 * 63 present, bit 56 exclusive, bits 0-54 the frame number, all 55 of
 * them (a frame above 2^54 keeps its top bit); bits 55-62 are flags that
 * never leak into the frame (mutaudit3). */
#include "config.h"

#include <check.h>
#include <stdint.h>

#include "tl_check.h"
#include "exec/shared_cow.h"

START_TEST(the_frames_top_bit_is_kept) {
  uint64_t top = (1ull << 54) | 5;
  tl_cow_page p = tl_shared_cow_entry((1ull << 63) | top);
  ck_assert(p.present && !p.exclusive);
  ck_assert_uint_eq(p.pfn, top);
  ck_assert_int_eq(p.mapcount, -1);
}
END_TEST

START_TEST(flag_bits_stay_out_of_the_frame) {
  /* soft-dirty (55), exclusive (56), file/shared (61), swapped (62) */
  uint64_t flags = (1ull << 55) | (1ull << 56) | (1ull << 61) | (1ull << 62);
  tl_cow_page p = tl_shared_cow_entry((1ull << 63) | flags | 42);
  ck_assert(p.present && p.exclusive);
  ck_assert_uint_eq(p.pfn, 42);
  /* Not present: no frame, whatever the bits say. */
  p = tl_shared_cow_entry(flags | 42);
  ck_assert(!p.present);
  ck_assert_uint_eq(p.pfn, 0);
}
END_TEST

TL_CHECK_MAIN("shared_cow", the_frames_top_bit_is_kept,
              flag_bits_stay_out_of_the_frame)
