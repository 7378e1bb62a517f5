// SPDX-License-Identifier: Apache-2.0
// defaults.c: where a caller given no URL finds the services: the
// environment the manifests set, then the node's agent socket, then the
// daemons' own default listeners.
#include <stdlib.h>
#include <sys/stat.h>

#include "prealloc/prealloc.h"

static const char *
defaults_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

const char *
pa_default_agent_url(void)
{
	struct stat st;
	const char *v = defaults_env("PREALLOC_AGENT");

	if (v != NULL)
		return v;
	// The socket is what the DaemonSet and the systemd unit put on the
	// node: a pod or a host process there reaches its own node's agent.
	if (stat(PA_AGENT_NODE_SOCKET, &st) == 0 && S_ISSOCK(st.st_mode))
		return "ipc://" PA_AGENT_NODE_SOCKET;
	return PA_DEFAULT_AGENT_TCP;
}

const char *
pa_default_policy_url(void)
{
	const char *v = defaults_env("PREALLOC_POLICY");

	return v != NULL ? v : PA_DEFAULT_POLICY_TCP;
}
