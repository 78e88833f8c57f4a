// Package temporalsetup prepares a Temporal namespace for Gooni: it registers the custom search
// attributes that make generation runs filterable in the Web UI.
//
// It talks to Temporal through the SDK only. Production binaries use it at start-up, so it must
// never import go.temporal.io/server (that would link the whole server into them).
package temporalsetup

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/gooni/gooni/workflows"
)

// DefaultWait bounds EnsureSearchAttributes when its context has no deadline.
const DefaultWait = time.Minute

// pollInterval is how often EnsureSearchAttributes re-checks the namespace while it waits.
const pollInterval = 100 * time.Millisecond

// SearchAttributes returns the custom search attributes Gooni sets on every generation run
// (model, type and lane), all of type Keyword. The map is new on each call.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	return map[string]enumspb.IndexedValueType{
		workflows.SearchAttrModel: enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		workflows.SearchAttrType:  enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		workflows.SearchAttrLane:  enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	}
}

// EnsureSearchAttributes registers attrs as custom search attributes of namespace and returns once
// they are usable: listed by the OperatorService and accepted in a visibility query. It is
// idempotent: attributes that already exist with the same type are left alone, and "already
// exists" answers from the server count as success. An attribute that exists with another type is
// an error (Temporal cannot change the type of a search attribute).
//
// ctx bounds the whole call; without a deadline the call gives up after DefaultWait.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string, attrs map[string]enumspb.IndexedValueType) error {
	if len(attrs) == 0 {
		return nil
	}
	if namespace == "" {
		return errors.New("ensure search attributes: namespace is empty")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultWait)
		defer cancel()
	}
	ops := c.OperatorService()

	current, err := ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes of namespace %s: %w", namespace, err)
	}
	missing, err := missingAttributes(current, attrs)
	if err != nil {
		return fmt.Errorf("namespace %s: %w", namespace, err)
	}
	if len(missing) > 0 {
		_, err := ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace:        namespace,
			SearchAttributes: missing,
		})
		var exists *serviceerror.AlreadyExists
		if err != nil && !errors.As(err, &exists) {
			return fmt.Errorf("add search attributes %v to namespace %s: %w", slices.Sorted(maps.Keys(missing)), namespace, err)
		}
	}

	// Wait until the attributes are listed, then until the frontend accepts them in a query: on
	// SQL visibility the frontend learns new aliases when its namespace cache refreshes (every
	// few seconds), and a workflow started before that would be refused.
	names := slices.Sorted(maps.Keys(attrs))
	return waitFor(ctx, func() error {
		current, err := ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
		if err != nil {
			return err
		}
		missing, err := missingAttributes(current, attrs)
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			return fmt.Errorf("not listed yet: %v", slices.Sorted(maps.Keys(missing)))
		}
		for _, name := range names {
			_, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
				Namespace: namespace,
				Query:     name + " IS NULL",
			})
			var unimplemented *serviceerror.Unimplemented
			if err != nil && !errors.As(err, &unimplemented) {
				return fmt.Errorf("query on %s refused: %w", name, err)
			}
		}
		return nil
	}, func(last error) error {
		return fmt.Errorf("wait for search attributes %v on namespace %s: %w (last check: %v)", names, namespace, ctx.Err(), last)
	})
}

// missingAttributes returns the attributes of want that current does not list, or an error when one
// is listed with another type.
func missingAttributes(current *operatorservice.ListSearchAttributesResponse, want map[string]enumspb.IndexedValueType) (map[string]enumspb.IndexedValueType, error) {
	missing := make(map[string]enumspb.IndexedValueType)
	for name, typ := range want {
		if have, ok := current.GetSystemAttributes()[name]; ok {
			return nil, fmt.Errorf("search attribute %s is a system attribute (type %s); choose another name", name, have)
		}
		have, ok := current.GetCustomAttributes()[name]
		switch {
		case !ok:
			missing[name] = typ
		case have != typ:
			return nil, fmt.Errorf("search attribute %s exists with type %s, want %s; a type cannot be changed: remove it or choose another name", name, have, typ)
		}
	}
	return missing, nil
}

// waitFor calls check until it returns nil or ctx ends; then it returns timeout(last check error).
func waitFor(ctx context.Context, check func() error, timeout func(last error) error) error {
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		last := check()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return timeout(last)
		case <-ticker.C:
		}
	}
}
