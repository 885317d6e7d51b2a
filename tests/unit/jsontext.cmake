# JSON text with shortest round-trip reals.
fo_unit_test(test_jsontext fo_common)
