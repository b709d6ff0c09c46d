package main

import (
	"os"
	"os/exec"
	"strings"
)

// identity is who bd would record as the writer, worked out as bd v1.0.0's getActorWithGit
// and getOwner do (once: the runner's environment and git config do not change).
type identity struct {
	actor string
	owner string
}

func currentIdentity() identity {
	return identity{actor: actorFrom(os.Getenv, gitConfig), owner: ownerFrom(os.Getenv, gitConfig)}
}

// actorFrom: BD_ACTOR (bd's config key "actor" via its BD_ env prefix, read first), BEADS_ACTOR,
// git user.name, USER, "unknown".
func actorFrom(env func(string) string, git func(string) string) string {
	for _, v := range []string{env("BD_ACTOR"), env("BEADS_ACTOR"), git("user.name"), env("USER")} {
		if v != "" {
			return v
		}
	}
	return "unknown"
}

// ownerFrom: GIT_AUTHOR_EMAIL, git user.email, else empty.
func ownerFrom(env func(string) string, git func(string) string) string {
	if v := env("GIT_AUTHOR_EMAIL"); v != "" {
		return v
	}
	return git("user.email")
}

func gitConfig(key string) string {
	out, err := exec.Command("git", "config", key).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
