package main

import (
	"context"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/server/common/api"
	"go.temporal.io/server/common/authorization"
)

// workerAPIs are the calls that change something which a worker makes: take tasks, report on them,
// heartbeat, say it is alive or leaving (the TypeScript and Python SDKs' workers, the nodes' only
// clients). Everything else that changes something (start, signal, cancel, terminate, reset or delete
// a workflow, batch operations, schedules, worker deployments and versioning rules, activity and task
// queue options) needs a writer, which a node is not: a stolen node's certificate can take and answer
// tasks, and read, but not act on the sweeps.
var workerAPIs = map[string]bool{
	"PollWorkflowTaskQueue":            true,
	"RespondWorkflowTaskCompleted":     true,
	"RespondWorkflowTaskFailed":        true,
	"RespondQueryTaskCompleted":        true,
	"ResetStickyTaskQueue":             true,
	"PollActivityTaskQueue":            true,
	"RecordActivityTaskHeartbeat":      true,
	"RecordActivityTaskHeartbeatById":  true,
	"RespondActivityTaskCompleted":     true,
	"RespondActivityTaskCompletedById": true,
	"RespondActivityTaskFailed":        true,
	"RespondActivityTaskFailedById":    true,
	"RespondActivityTaskCanceled":      true,
	"RespondActivityTaskCanceledById":  true,
	"PollNexusTaskQueue":               true,
	"RespondNexusTaskCompleted":        true,
	"RespondNexusTaskFailed":           true,
	"RecordWorkerHeartbeat":            true,
	"ShutdownWorker":                   true,
}

// workerAuthorizer is Temporal's default authorizer, which knows no worker role (it ranks roles, and
// every call above reading needs a writer), plus that role: a claim of RoleWorker in a namespace
// allows workerAPIs there.
type workerAuthorizer struct {
	authorization.Authorizer
}

func newWorkerAuthorizer() authorization.Authorizer {
	return workerAuthorizer{authorization.NewDefaultAuthorizer()}
}

func (a workerAuthorizer) Authorize(ctx context.Context, claims *authorization.Claims, target *authorization.CallTarget) (authorization.Result, error) {
	if claims != nil && claims.Namespaces[target.Namespace]&authorization.RoleWorker != 0 &&
		api.ServiceName(target.APIName) == api.WorkflowServicePrefix && workerAPIs[api.MethodName(target.APIName)] {
		return authorization.Result{Decision: authorization.DecisionAllow, Principal: &commonpb.Principal{Type: claims.AuthType, Name: claims.Subject}}, nil
	}
	return a.Authorizer.Authorize(ctx, claims, target)
}
