package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/schemas"
	"gopkg.in/yaml.v3"
)

// defaultConfigFile is read from the working directory when --config is not
// given and the file exists.
const defaultConfigFile = "eventaudit.yml"

// fileConfig is eventaudit.yml. The settings (warehouse, table.name,
// slack.mode, …) are the settings table's config keys, read into values;
// the sections that are not settings — the events mapping, lint rules,
// the secrets of Slack and --values hash, and the ignore: list — are decoded here.
type fileConfig struct {
	// values are the settings' values by dotted key, lists as their items.
	values map[string][]string

	Events map[string]string `yaml:"events"`
	// Lint starts from Reflekt's defaults; the file overrides field by field.
	Lint  schemas.LintRules `yaml:"lint"`
	Slack struct {
		WebhookURL string `yaml:"webhook_url"`
		BotToken   string `yaml:"bot_token"`
	} `yaml:"slack"`
	Values struct {
		Key string `yaml:"key"`
	} `yaml:"values"`
	// ignore is the ignore: list as written, lines kept, so that an
	// error names the entry where it is.
	ignore *yaml.Node
}

// sections are the config keys that are not settings.
var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// loadConfig reads path, or eventaudit.yml when path is "" and it exists.
// ${VAR} is expanded from the environment so secrets stay out of the file;
// an unset variable is an error rather than a silent empty password.
func loadConfig(path string, getenv func(string) string) (*fileConfig, error) {
	cfg := &fileConfig{Lint: schemas.DefaultLintRules()}
	explicit := path != ""
	if !explicit {
		path = defaultConfigFile
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return cfg, nil
	}
	if err != nil {
		return nil, usageError{fmt.Errorf("read config: %w", err)}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return nil, usageError{fmt.Errorf("%s: %w", path, err)}
	}
	// Values only, after parsing: a commented-out "# webhook_url:
	// ${SLACK_WEBHOOK_URL}" needs no variable, and a secret holding " #" or
	// ": " stays whole.
	if missing := expandEnv(&root, getenv); len(missing) > 0 {
		return nil, usageError{fmt.Errorf("%s refers to unset environment variable(s): %s", path, strings.Join(missing, ", "))}
	}
	if err := cfg.decode(&root); err != nil {
		return nil, usageError{fmt.Errorf("%s: %w", path, err)}
	}
	return cfg, nil
}

// decode reads the settings' values and the sections, refusing a key that
// is neither, as a typo would otherwise be silently ignored.
//
// Nodes, not Go values: a setting's text reaches its flag as written (a
// YAML timestamp such as 2026-11-20 stays that text).
func (c *fileConfig) decode(root *yaml.Node) error {
	known := map[string]bool{}
	for _, s := range settingsTable() {
		if s.config != "" {
			known[s.config] = true
		}
	}
	// The sections are kept aside, in their nesting, to be decoded strictly
	// below: a misspelt lint rule is an error too.
	sections := map[string]bool{"events": true, "lint": true, "slack.webhook_url": true, "slack.bot_token": true, "values.key": true}
	strict := &yaml.Node{Kind: yaml.MappingNode}
	keep := func(path []*yaml.Node, v *yaml.Node) {
		m := strict
		for _, k := range path[:len(path)-1] {
			var sub *yaml.Node
			for i := 0; i+1 < len(m.Content); i += 2 {
				if m.Content[i].Value == k.Value {
					sub = m.Content[i+1]
				}
			}
			if sub == nil {
				sub = &yaml.Node{Kind: yaml.MappingNode}
				m.Content = append(m.Content, k, sub)
			}
			m = sub
		}
		m.Content = append(m.Content, path[len(path)-1], v)
	}
	c.values = map[string][]string{}
	var walk func(prefix string, path []*yaml.Node, m *yaml.Node) error
	walk = func(prefix string, path []*yaml.Node, m *yaml.Node) error {
		for i := 0; i+1 < len(m.Content); i += 2 {
			key, v := prefix+m.Content[i].Value, m.Content[i+1]
			at := append(slices.Clip(path), m.Content[i])
			switch {
			case key == "ignore":
				c.ignore = v
			case sections[key]:
				keep(at, v)
			case v.Kind == yaml.MappingNode:
				if err := walk(key+".", at, v); err != nil {
					return err
				}
			case !known[key]:
				return fmt.Errorf("line %d: unknown key %q (see the README's configuration section)", m.Content[i].Line, key)
			case v.Kind == yaml.SequenceNode:
				items := make([]string, len(v.Content))
				for j, item := range v.Content {
					items[j] = item.Value
				}
				c.values[key] = items
			case v.Tag == "!!null":
				// `key:` with no value leaves the setting as if absent.
			default:
				c.values[key] = []string{v.Value}
			}
		}
		return nil
	}
	if len(root.Content) == 0 {
		return nil // an empty file
	}
	if root.Content[0].Kind != yaml.MappingNode {
		return errors.New("not a mapping of settings")
	}
	if err := walk("", nil, root.Content[0]); err != nil {
		return err
	}
	b, err := yaml.Marshal(strict)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// expandEnv replaces ${VAR} in every scalar value under n with the
// variable's value, and returns the variables that are unset.
func expandEnv(n *yaml.Node, getenv func(string) string) []string {
	var missing []string
	var walk func(n *yaml.Node, isKey bool)
	walk = func(n *yaml.Node, isKey bool) {
		if n.Kind == yaml.ScalarNode && !isKey {
			n.Value = envRef.ReplaceAllStringFunc(n.Value, func(m string) string {
				name := envRef.FindStringSubmatch(m)[1]
				v := getenv(name)
				if v == "" && !slices.Contains(missing, name) {
					missing = append(missing, name)
				}
				return v
			})
		}
		for i, c := range n.Content {
			walk(c, n.Kind == yaml.MappingNode && i%2 == 0)
		}
	}
	walk(n, false)
	return missing
}

// ignoreFields are the keys of an ignore: entry.
var ignoreFields = []string{"event", "schema", "keyword", "path", "reason", "until"}

// suppressions reads the ignore: list. A malformed entry is a
// configuration error that names the entry and its line.
func (c *fileConfig) suppressions() ([]audit.Suppression, error) {
	if c.ignore == nil || c.ignore.Tag == "!!null" {
		return nil, nil
	}
	if c.ignore.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("line %d: ignore: must be a list of entries, each with a reason and at least one of %s",
			c.ignore.Line, strings.Join(ignoreFields[:4], ", "))
	}
	var out []audit.Suppression
	for i, n := range c.ignore.Content {
		s := audit.Suppression{Entry: fmt.Sprintf("ignore entry %d (line %d)", i+1, n.Line)}
		if n.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s: want a mapping of %s", s.Entry, strings.Join(ignoreFields, ", "))
		}
		for j := 0; j+1 < len(n.Content); j += 2 {
			k, v := n.Content[j].Value, n.Content[j+1]
			if v.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("%s: %s must be a single value", s.Entry, k)
			}
			switch k {
			case "event":
				s.Event = v.Value
			case "schema":
				s.Schema = v.Value
			case "keyword":
				s.Keyword = v.Value
			case "path":
				s.Path = v.Value
			case "reason":
				s.Reason = v.Value
			case "until":
				day, err := time.Parse(time.DateOnly, v.Value)
				if err != nil {
					return nil, fmt.Errorf("%s: until %q: want a date, YYYY-MM-DD", s.Entry, v.Value)
				}
				// Through that day, in UTC: the first day it no longer applies is the next.
				s.Until = day.AddDate(0, 0, 1)
			default:
				return nil, fmt.Errorf("%s: unknown key %q (use %s)", s.Entry, k, strings.Join(ignoreFields, ", "))
			}
		}
		if err := s.Compile(); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
