package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/eventaudit/eventaudit/schemas"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// defaultConfigFile is read from the working directory when --config is not
// given and the file exists.
const defaultConfigFile = "eventaudit.yml"

// fileConfig is eventaudit.yml. Flags override EVENTAUDIT_* variables, which
// override the file.
type fileConfig struct {
	Warehouse     string            `yaml:"warehouse"`
	Table         tableConfig       `yaml:"table"`
	Layout        string            `yaml:"layout"`
	Source        string            `yaml:"source"`
	ResultsSchema *string           `yaml:"results_schema"`
	Schemas       string            `yaml:"schemas"`
	Plan          string            `yaml:"plan"`
	Validate      string            `yaml:"validate"`
	Unplanned     string            `yaml:"unplanned"`
	AssertFormat  *bool             `yaml:"assert_format"`
	Events        map[string]string `yaml:"events"`
	Workers       int               `yaml:"workers"`
	FailOn        []string          `yaml:"fail_on"`
	Format        string            `yaml:"format"`
	Since         string            `yaml:"since"`
	Until         string            `yaml:"until"`
	// MaxPayloadBytes bounds the payload parsed per row.
	MaxPayloadBytes int `yaml:"max_payload_bytes"`
	// Lint starts from Reflekt's defaults; the file overrides field by field.
	Lint  schemas.LintRules `yaml:"lint"`
	Slack slackConfig       `yaml:"slack"`
}

type slackConfig struct {
	Mode       string `yaml:"mode"` // always | failure | never
	WebhookURL string `yaml:"webhook_url"`
	BotToken   string `yaml:"bot_token"`
	Channel    string `yaml:"channel"`
	Top        int    `yaml:"top"`
	Link       string `yaml:"link"`
}

type tableConfig struct {
	Name       string `yaml:"name"`
	MessageID  string `yaml:"message_id"`
	ReceivedAt string `yaml:"received_at"`
	Payload    string `yaml:"payload"`
}

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
	var missing []string
	expanded := envRef.ReplaceAllFunc(raw, func(m []byte) []byte {
		name := string(envRef.FindSubmatch(m)[1])
		v := getenv(name)
		if v == "" {
			missing = append(missing, name)
		}
		return []byte(v)
	})
	if len(missing) > 0 {
		return nil, usageError{fmt.Errorf("%s refers to unset environment variable(s): %s", path, strings.Join(missing, ", "))}
	}
	dec := yaml.NewDecoder(bytes.NewReader(expanded))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) { // io.EOF: an empty file
		return nil, usageError{fmt.Errorf("%s: %w", path, err)}
	}
	return cfg, nil
}

// layer applies one setting's precedence: a flag the user set wins, then
// the environment variable, then the config file, then the flag's default.
type layer struct {
	flags  *pflag.FlagSet
	getenv func(string) string
	err    error
}

func (l *layer) str(dst *string, flag, env, file string) {
	if l.flags.Changed(flag) {
		return
	}
	if v := l.getenv(env); v != "" {
		*dst = v
	} else if file != "" {
		*dst = file
	}
}

func (l *layer) integer(dst *int, flag, env string, file int) {
	if l.flags.Changed(flag) {
		return
	}
	if v := l.getenv(env); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil && l.err == nil {
			l.err = usageError{fmt.Errorf("%s=%q: not a number", env, v)}
		}
		*dst = n
	} else if file != 0 {
		*dst = file
	}
}

func (l *layer) list(dst *[]string, flag, env string, file []string) {
	if l.flags.Changed(flag) {
		return
	}
	if v := l.getenv(env); v != "" {
		*dst = strings.Split(v, ",")
	} else if len(file) > 0 {
		*dst = file
	}
}

func (l *layer) boolean(dst *bool, flag, env string, file *bool) {
	if l.flags.Changed(flag) {
		return
	}
	if v := l.getenv(env); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil && l.err == nil {
			l.err = usageError{fmt.Errorf("%s=%q: want true or false", env, v)}
		}
		*dst = b
	} else if file != nil {
		*dst = *file
	}
}
