package store

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Domain errors. Methods wrap them with context; test with errors.Is.
var (
	// ErrNotFound means no row has the given id.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists means a row with the same id or unique key exists.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict means the row is in a state that forbids the change, e.g.
	// finishing a task that already failed.
	ErrConflict = errors.New("conflict")
	// ErrInvalid means the values break a rule of the schema (a check, a
	// required field, a malformed value).
	ErrInvalid = errors.New("invalid")
)

// SQLSTATE codes translated by [translate].
const (
	codeUniqueViolation  = "23505"
	codeCheckViolation   = "23514"
	codeNotNullViolation = "23502"
	codeInvalidText      = "22P02"
	codeNumericRange     = "22003"
)

// translate maps a pgx error to a domain error, keeping the constraint or
// message as detail. Other errors pass through unchanged.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch pgErr.Code {
	case codeUniqueViolation:
		return fmt.Errorf("%w (%s)", ErrAlreadyExists, pgErr.ConstraintName)
	case codeCheckViolation:
		return fmt.Errorf("%w: violates %s", ErrInvalid, pgErr.ConstraintName)
	case codeNotNullViolation:
		return fmt.Errorf("%w: %s is required", ErrInvalid, pgErr.ColumnName)
	case codeInvalidText, codeNumericRange:
		return fmt.Errorf("%w: %s", ErrInvalid, pgErr.Message)
	}
	return err
}
