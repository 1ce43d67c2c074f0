"""Operations: load, apply rules, write, record events, in one transaction."""
