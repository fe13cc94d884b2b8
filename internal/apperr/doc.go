// Package apperr is the error vocabulary shared by every OpenWatch package.
//
// Services return *Error values (usually through the constructors here, wrapped with %w as
// they travel up); the HTTP layer alone turns them into a status code and the error
// envelope. Every code a client can see is registered in registry.go, which is the only
// place codes are defined; a test checks the registry against the ErrorCode enum of the
// OpenAPI document, and that every registered code is emitted somewhere.
package apperr
