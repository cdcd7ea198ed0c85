"""Reading: bytes of corpus files → Documents → sentences and passages, with their French terms."""
