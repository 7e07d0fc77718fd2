# tools/wirecat.mk - (in progress)
