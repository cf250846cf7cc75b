package audit

import "errors"

// ConfigError marks a mistake the user fixes in flags, config or schemas:
// the CLI maps it to exit 2. Every other error of a run is a runtime error.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Configf wraps err as a ConfigError.
func Configf(err error) error {
	if err == nil {
		return nil
	}
	return &ConfigError{Err: err}
}

// IsConfig reports whether err is, or wraps, a ConfigError.
func IsConfig(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}
