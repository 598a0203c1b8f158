"""Pure logic: no files, no network, no tracking server. Everything here is a function of its arguments."""
