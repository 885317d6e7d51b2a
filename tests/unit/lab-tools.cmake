# The lab's measurement tools (see scripts/lab): fo-echo, the UDP service run in each
# node namespace, and fo-probe, the client that measures what a failover costs.
# They use only libc, so they build even when the daemons do not.
add_executable(fo-echo ${CMAKE_CURRENT_SOURCE_DIR}/tools/fo-echo.c)
add_executable(fo-probe ${CMAKE_CURRENT_SOURCE_DIR}/tools/fo-probe.c)
