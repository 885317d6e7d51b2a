# The configuration engine of lib/ (cfgfile.c, cfgvalue.c).
fo_unit_test(test_cfgfile fo_common)
