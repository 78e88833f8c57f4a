package micro_test

import (
	"testing"

	"github.com/gooni/gooni/bench/micro"
)

func BenchmarkSettingsValidateTypicalPonyRequest(b *testing.B) { micro.ValidateRequest(b) }

func BenchmarkCPURunner512x512x20Steps(b *testing.B) { micro.CPURunner(b) }

func BenchmarkPreviewOf512PNG(b *testing.B) { micro.Preview(b) }
