package main

import (
	"context"
	"crypto/x509/pkix"
	"testing"

	"go.temporal.io/server/common/api"
	"go.temporal.io/server/common/authorization"
)

// What each certificate may call, decided as the server decides it: these claims through the server's
// authorizer.
func TestEachCertificateMayDoWhatItsHolderNeeds(t *testing.T) {
	mapper := nodeClaimMapper{namespace: "sweeps"}
	authorizer := newWorkerAuthorizer()
	const (
		workflowService = "/temporal.api.workflowservice.v1.WorkflowService/"
		operatorService = "/temporal.api.operatorservice.v1.OperatorService/"
	)
	cases := []struct {
		who       pkix.Name
		api       string
		namespace string
		allowed   bool
	}{
		// A node works: takes and answers tasks, heartbeats; and reads.
		{node("gpu1"), workflowService + "PollActivityTaskQueue", "sweeps", true},
		{node("gpu1"), workflowService + "RecordActivityTaskHeartbeat", "sweeps", true},
		{node("gpu1"), workflowService + "RespondActivityTaskCompleted", "sweeps", true},
		{node("gpu1"), workflowService + "PollWorkflowTaskQueue", "sweeps", true},
		{node("gpu1"), workflowService + "RespondWorkflowTaskCompleted", "sweeps", true},
		{node("gpu1"), workflowService + "RecordWorkerHeartbeat", "sweeps", true},
		{node("gpu1"), workflowService + "ShutdownWorker", "sweeps", true},
		{node("gpu1"), workflowService + "GetWorkflowExecutionHistory", "sweeps", true},
		{node("gpu1"), workflowService + "DescribeTaskQueue", "sweeps", true},
		{node("gpu1"), workflowService + "ListWorkflowExecutions", "sweeps", true},
		{node("gpu1"), workflowService + "GetSystemInfo", "", true},
		// It does not act on the sweeps.
		{node("gpu1"), workflowService + "StartWorkflowExecution", "sweeps", false},
		{node("gpu1"), workflowService + "SignalWorkflowExecution", "sweeps", false},
		{node("gpu1"), workflowService + "RequestCancelWorkflowExecution", "sweeps", false},
		{node("gpu1"), workflowService + "TerminateWorkflowExecution", "sweeps", false},
		{node("gpu1"), workflowService + "ResetWorkflowExecution", "sweeps", false},
		{node("gpu1"), workflowService + "DeleteWorkflowExecution", "sweeps", false},
		{node("gpu1"), workflowService + "StartBatchOperation", "sweeps", false},
		{node("gpu1"), workflowService + "CreateSchedule", "sweeps", false},
		{node("gpu1"), workflowService + "SetWorkerDeploymentCurrentVersion", "sweeps", false},
		{node("gpu1"), workflowService + "UpdateWorkflowExecutionOptions", "sweeps", false},
		// Nor works or reads elsewhere.
		{node("gpu1"), workflowService + "PollActivityTaskQueue", "temporal-system", false},
		{node("gpu1"), workflowService + "StartWorkflowExecution", "temporal-system", false},
		{node("gpu1"), workflowService + "ListWorkflowExecutions", "other", false},
		{node("gpu1"), workflowService + "UpdateNamespace", "sweeps", false},
		{node("gpu1"), workflowService + "RegisterNamespace", "", false},
		{node("gpu1"), operatorService + "DeleteNamespace", "", false},
		{node("gpu1"), operatorService + "AddSearchAttributes", "sweeps", false},
		{node("operator"), workflowService + "RegisterNamespace", "", true},
		{node("operator"), workflowService + "TerminateWorkflowExecution", "sweeps", true},
		{node("operator"), workflowService + "StartWorkflowExecution", "sweeps", true},
		{node("operator"), operatorService + "AddSearchAttributes", "sweeps", true},
		{node("operator"), workflowService + "ListWorkflowExecutions", "temporal-system", true},
		{node("sweep cluster servers"), workflowService + "StartWorkflowExecution", "temporal-system", true},
		{pkix.Name{Organization: []string{"elsewhere"}, CommonName: "operator"}, workflowService + "ListWorkflowExecutions", "sweeps", false},
		{pkix.Name{CommonName: "gpu1"}, workflowService + "PollActivityTaskQueue", "sweeps", false},
	}
	for _, c := range cases {
		claims, err := mapper.GetClaims(&authorization.AuthInfo{TLSSubject: &c.who})
		if err != nil {
			t.Fatalf("%v: %v", c.who, err)
		}
		result, err := authorizer.Authorize(context.Background(), claims, &authorization.CallTarget{APIName: c.api, Namespace: c.namespace})
		if err != nil {
			t.Fatalf("%v %s: %v", c.who, c.api, err)
		}
		if allowed := result.Decision == authorization.DecisionAllow; allowed != c.allowed {
			t.Errorf("%s (O=%v) calling %s in %q: allowed %v, want %v", c.who.CommonName, c.who.Organization, c.api, c.namespace, allowed, c.allowed)
		}
	}
}

func TestNoCertificateNoRoles(t *testing.T) {
	claims, err := nodeClaimMapper{namespace: "sweeps"}.GetClaims(&authorization.AuthInfo{})
	if err != nil || claims.System != authorization.RoleUndefined || len(claims.Namespaces) != 0 {
		t.Fatalf("claims %+v, error %v: want none", claims, err)
	}
}

func node(name string) pkix.Name {
	return pkix.Name{Organization: []string{clusterOrganization}, CommonName: name}
}

// Every name in workerAPIs is one of the server's calls that changes something (a typo would allow
// nothing; a read needs no entry).
func TestWorkerAPIsAreTheServersWriteCalls(t *testing.T) {
	for name := range workerAPIs {
		metadata := api.GetMethodMetadata(api.WorkflowServicePrefix + name)
		if metadata.Scope != api.ScopeNamespace || metadata.Access != api.AccessWrite {
			t.Errorf("%s: scope %v, access %v; want a namespace's write call", name, metadata.Scope, metadata.Access)
		}
	}
}
