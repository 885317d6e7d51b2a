# The /proc text parsers of healthcheck/resources.c and lib's netstat parser; the
# fuzz source includes resources.c, so it needs that directory for resources.h.
fo_fuzz_target(fuzz_resources fo_common m)
if(FO_FUZZ)
  target_include_directories(fuzz_resources PRIVATE ${CMAKE_SOURCE_DIR}/healthcheck)
endif()
