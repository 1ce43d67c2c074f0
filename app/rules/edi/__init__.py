"""X12 HIPAA transactions other than the 837P: the payer's answers (999, 277CA, 835, 271) and the 270 we ask."""
