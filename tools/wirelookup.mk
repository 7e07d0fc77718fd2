# tools/wirelookup.mk - (in progress)
