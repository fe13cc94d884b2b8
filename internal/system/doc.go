// Package system answers the operations about the service itself: health, version and
// the API document. Health is served from a result at most one second old, so monitoring
// and load balancers can poll it hard without loading the database.
package system
