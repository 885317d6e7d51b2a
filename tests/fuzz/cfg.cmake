# The configuration engine of lib/ (cfgfile.c, cfgvalue.c) with a table of its own.
fo_fuzz_target(fuzz_cfgvalue fo_common)
