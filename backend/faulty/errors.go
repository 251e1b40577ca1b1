package faulty

import "errors"

var (
	// ErrInjected is the error of an operation that a fault made fail:
	// FailAfter's budget ran out, or TornWrite tore a Commit. Errors returned
	// by the wrapper match it with errors.Is and name the operation and blob.
	ErrInjected = errors.New("faulty: injected fault")
	// ErrOffline is the error of every operation on a zone that is offline.
	ErrOffline = errors.New("faulty: zone offline")
)
