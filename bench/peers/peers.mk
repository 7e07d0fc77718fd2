# bench/peers/peers.mk - (in progress)
