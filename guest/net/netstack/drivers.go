package netstack

// The drivers, in the order they are tried.
var drivers = []driver{}
