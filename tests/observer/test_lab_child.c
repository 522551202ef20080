/* The lab reads its child server's ports from the child's banner lines
 * (observer/lab_child): IPv4 and IPv6 hosts, the port's bounds, and
 * lines that hold no port. */
#include "config.h"

#include <check.h>

#include "tl_check.h"
#include "observer/lab_child.h"

START_TEST(ports_of_both_host_forms) {
  ck_assert_int_eq(tl_lab_child_banner_port(
                       "  workload:  http://127.0.0.1:39517/\n", "workload:"),
                   39517);
  ck_assert_int_eq(tl_lab_child_banner_port(
                       "  dashboard: http://[::1]:8081/ (admin)", "dashboard:"),
                   8081);
  ck_assert_int_eq(
      tl_lab_child_banner_port("workload: http://[::]:1", "workload:"), 1);
  ck_assert_int_eq(
      tl_lab_child_banner_port("workload: http://localhost:65535", "workload:"),
      65535);
}
END_TEST

START_TEST(no_port_where_none_is_given) {
  /* another line's name, a port out of range, a port cut short */
  ck_assert_int_eq(
      tl_lab_child_banner_port("dashboard: http://127.0.0.1:80/", "workload:"),
      0);
  ck_assert_int_eq(tl_lab_child_banner_port("workload: http://127.0.0.1:65536/",
                                            "workload:"),
                   0);
  ck_assert_int_eq(
      tl_lab_child_banner_port("workload: http://127.0.0.1:0/", "workload:"),
      0);
  ck_assert_int_eq(
      tl_lab_child_banner_port("workload: http://127.0.0.1:80x", "workload:"),
      0);
  ck_assert_int_eq(
      tl_lab_child_banner_port("workload: http://[::1/", "workload:"), 0);
  ck_assert_int_eq(
      tl_lab_child_banner_port("workload: http://[::1]/", "workload:"), 0);
  ck_assert_int_eq(tl_lab_child_banner_port("workload: starting", "workload:"),
                   0);
}
END_TEST

TL_CHECK_MAIN("lab_child", ports_of_both_host_forms,
              no_port_where_none_is_given)
