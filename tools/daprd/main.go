// Command daprd is a slim Dapr sidecar for the Todo service.
//
// Dapr's own cmd/daprd registers every component it ships (its "components"
// package panics unless built with -tags stablecomponents/allcomponents), which
// makes a big binary and a long build. This program instead registers only the
// components our resources in dapr/ use, then starts the same runtime with the
// same command-line flags as the upstream daprd (parsed by dapr's own
// cmd/daprd/options package), so it is a drop-in replacement for local runs.
package main

import (
	"context"
	"fmt"
	"os"

	"go.opencensus.io/stats/view"
	"go.uber.org/automaxprocs/maxprocs"

	cronbinding "github.com/dapr/components-contrib/bindings/cron"
	httpbinding "github.com/dapr/components-contrib/bindings/http"
	pubsubinmemory "github.com/dapr/components-contrib/pubsub/in-memory"
	pubsubkafka "github.com/dapr/components-contrib/pubsub/kafka"
	stateinmemory "github.com/dapr/components-contrib/state/in-memory"
	stateredis "github.com/dapr/components-contrib/state/redis"

	"github.com/dapr/dapr/cmd/daprd/options"
	"github.com/dapr/dapr/pkg/buildinfo"
	bindingsloader "github.com/dapr/dapr/pkg/components/bindings"
	configurationloader "github.com/dapr/dapr/pkg/components/configuration"
	conversationloader "github.com/dapr/dapr/pkg/components/conversation"
	cryptoloader "github.com/dapr/dapr/pkg/components/crypto"
	lockloader "github.com/dapr/dapr/pkg/components/lock"
	httpmiddlewareloader "github.com/dapr/dapr/pkg/components/middleware/http"
	nrloader "github.com/dapr/dapr/pkg/components/nameresolution"
	pubsubloader "github.com/dapr/dapr/pkg/components/pubsub"
	secretstoresloader "github.com/dapr/dapr/pkg/components/secretstores"
	stateloader "github.com/dapr/dapr/pkg/components/state"
	"github.com/dapr/dapr/pkg/healthz"
	"github.com/dapr/dapr/pkg/metrics"
	"github.com/dapr/dapr/pkg/modes"
	"github.com/dapr/dapr/pkg/runtime"
	"github.com/dapr/dapr/pkg/runtime/registry"
	"github.com/dapr/dapr/pkg/security"
	"github.com/dapr/kit/concurrency"
	"github.com/dapr/kit/logger"
	"github.com/dapr/kit/signals"
)

var (
	log        = logger.NewLogger("dapr.runtime")
	logContrib = logger.NewLogger("dapr.contrib")
)

// registerComponents adds the component types this project uses to Dapr's
// default registries. Names are the part after the kind in a resource's
// spec.type ("pubsub.kafka" -> "kafka").
func registerComponents() {
	pubsubloader.DefaultRegistry.RegisterComponent(pubsubkafka.NewKafka, "kafka")
	pubsubloader.DefaultRegistry.RegisterComponent(pubsubinmemory.New, "in-memory")

	stateloader.DefaultRegistry.RegisterComponent(stateredis.NewRedisStateStore, "redis")
	stateloader.DefaultRegistry.RegisterComponent(stateinmemory.NewInMemoryStateStore, "in-memory")

	bindingsloader.DefaultRegistry.RegisterInputBinding(cronbinding.NewCron, "cron")
	bindingsloader.DefaultRegistry.RegisterOutputBinding(httpbinding.NewHTTP, "http")
}

func main() {
	// Honour cgroup CPU limits (as upstream daprd does).
	_, _ = maxprocs.Set()

	opts, err := options.New(os.Args[1:])
	if err != nil {
		log.Fatalf("Failed to parse flags: %v", err)
	}
	if opts.RuntimeVersion {
		fmt.Println(buildinfo.Version()) //nolint:forbidigo
		return
	}
	if opts.BuildInfo {
		fmt.Printf("Version: %s\nGit Commit: %s\nGit Version: %s\nComponents: %s\n", //nolint:forbidigo
			buildinfo.Version(), buildinfo.Commit(), buildinfo.GitVersion(),
			"pubsub.kafka pubsub.in-memory state.redis state.in-memory bindings.cron bindings.http")
		return
	}
	if opts.WaitCommand {
		runtime.WaitUntilDaprOutboundReady(opts.DaprHTTPPort)
		return
	}

	opts.Logger.SetAppID(opts.AppID)
	if err := logger.ApplyOptionsToLoggers(&opts.Logger); err != nil {
		log.Fatal(err)
	}
	log.Infof("Starting slim Dapr runtime -- version %s -- commit %s", buildinfo.Version(), buildinfo.Commit())

	secretstoresloader.DefaultRegistry.Logger = logContrib
	stateloader.DefaultRegistry.Logger = logContrib
	cryptoloader.DefaultRegistry.Logger = logContrib
	configurationloader.DefaultRegistry.Logger = logContrib
	lockloader.DefaultRegistry.Logger = logContrib
	pubsubloader.DefaultRegistry.Logger = logContrib
	nrloader.DefaultRegistry.Logger = logContrib
	bindingsloader.DefaultRegistry.Logger = logContrib
	conversationloader.DefaultRegistry.Logger = logContrib
	httpmiddlewareloader.DefaultRegistry.Logger = log // upstream uses the runtime logger here too
	registerComponents()

	// Like upstream daprd: SIGTERM/SIGINT end the process; SIGHUP restarts the
	// runtime in-process (re-reading the resources), each run with a fresh context.
	ctx := signals.Context()
	runs := signals.OnHUP(ctx)
	defer log.Info("Daprd shutdown gracefully")
	for {
		select {
		case <-ctx.Done():
			return
		case runCtx, ok := <-runs:
			if !ok {
				return
			}
			if err := runOnce(runCtx, opts); err != nil {
				log.Fatalf("Fatal error from runtime: %s", err)
			}
			if runCtx.Err() == nil {
				// The runtime stopped by itself (e.g. the shutdown API): exit.
				return
			}
		}
	}
}

// runOnce builds the security provider and the runtime and runs them until ctx ends.
func runOnce(ctx context.Context, opts *options.Options) error {
	reg := registry.NewOptions().
		WithSecretStores(secretstoresloader.DefaultRegistry).
		WithStateStores(stateloader.DefaultRegistry).
		WithConfigurations(configurationloader.DefaultRegistry).
		WithLocks(lockloader.DefaultRegistry).
		WithPubSubs(pubsubloader.DefaultRegistry).
		WithNameResolutions(nrloader.DefaultRegistry).
		WithBindings(bindingsloader.DefaultRegistry).
		WithCryptoProviders(cryptoloader.DefaultRegistry).
		WithHTTPMiddlewares(httpmiddlewareloader.DefaultRegistry).
		WithConversations(conversationloader.DefaultRegistry)

	health := healthz.New()
	secProvider, err := security.New(ctx, security.Options{
		SentryAddress:           opts.SentryAddress,
		ControlPlaneTrustDomain: opts.ControlPlaneTrustDomain,
		ControlPlaneNamespace:   opts.ControlPlaneNamespace,
		TrustAnchors:            opts.TrustAnchors,
		AppID:                   opts.AppID,
		MTLSEnabled:             opts.EnableMTLS,
		Mode:                    modes.DaprMode(opts.Mode),
		Healthz:                 health,
		JwtAudiences:            opts.SentryRequestJwtAudiences,
	})
	if err != nil {
		return err
	}

	runRuntime := func(ctx context.Context) error {
		sec, err := secProvider.Handler(ctx)
		if err != nil {
			return err
		}
		rt, err := runtime.FromConfig(ctx, runtimeConfig(opts, reg, sec, health))
		if err != nil {
			return err
		}
		return rt.Run(ctx)
	}
	return concurrency.NewRunnerManager(secProvider.Run, runRuntime).Run(ctx)
}

// runtimeConfig maps the parsed daprd flags onto the runtime's configuration.
func runtimeConfig(opts *options.Options, reg *registry.Options, sec security.Handler, health healthz.Healthz) *runtime.Config {
	return &runtime.Config{
		AppID:                         opts.AppID,
		ActorsService:                 opts.ActorsService,
		ActorsDisseminationTimeout:    opts.ActorsDisseminationTimeout,
		RemindersService:              opts.RemindersService,
		SchedulerAddress:              opts.SchedulerAddress,
		SchedulerStreams:              opts.SchedulerJobStreams,
		AllowedOrigins:                opts.AllowedOrigins,
		ResourcesPath:                 opts.ResourcesPath,
		ControlPlaneAddress:           opts.ControlPlaneAddress,
		AppProtocol:                   opts.AppProtocol,
		Mode:                          opts.Mode,
		DaprHTTPPort:                  opts.DaprHTTPPort,
		DaprInternalGRPCPort:          opts.DaprInternalGRPCPort,
		DaprInternalGRPCListenAddress: opts.DaprInternalGRPCListenAddress,
		DaprAPIGRPCPort:               opts.DaprAPIGRPCPort,
		DaprAPIListenAddresses:        opts.DaprAPIListenAddresses,
		DaprPublicPort:                opts.DaprPublicPort,
		DaprPublicListenAddress:       opts.DaprPublicListenAddress,
		ApplicationPort:               opts.AppPort,
		ProfilePort:                   opts.ProfilePort,
		EnableProfiling:               opts.EnableProfiling,
		AppMaxConcurrency:             opts.AppMaxConcurrency,
		EnableMTLS:                    opts.EnableMTLS,
		SentryAddress:                 opts.SentryAddress,
		MaxRequestSize:                opts.MaxRequestSize,
		ReadBufferSize:                opts.ReadBufferSize,
		UnixDomainSocket:              opts.UnixDomainSocket,
		DaprGracefulShutdownSeconds:   opts.DaprGracefulShutdownSeconds,
		DaprBlockShutdownDuration:     opts.DaprBlockShutdownDuration,
		DisableBuiltinK8sSecretStore:  opts.DisableBuiltinK8sSecretStore,
		EnableAppHealthCheck:          opts.EnableAppHealthCheck,
		AppHealthCheckPath:            opts.AppHealthCheckPath,
		AppHealthProbeInterval:        opts.AppHealthProbeInterval,
		AppHealthProbeTimeout:         opts.AppHealthProbeTimeout,
		AppHealthThreshold:            opts.AppHealthThreshold,
		AppChannelAddress:             opts.AppChannelAddress,
		EnableAPILogging:              opts.EnableAPILogging,
		Config:                        opts.Config,
		DisableInitEndpoints:          opts.DisableInitEndpoints,
		Metrics: metrics.Options{
			Enabled:       opts.Metrics.Enabled(),
			Log:           log,
			Port:          opts.Metrics.Port(),
			Namespace:     metrics.DefaultMetricNamespace,
			Healthz:       health,
			ListenAddress: opts.Metrics.ListenAddress(),
			Meter:         view.NewMeter(),
		},
		AppSSL:         opts.AppSSL,
		ComponentsPath: opts.ComponentsPath,
		Registry:       reg,
		Security:       sec,
		Healthz:        health,
	}
}
