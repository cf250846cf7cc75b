package snowflake

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	sf "github.com/snowflakedb/gosnowflake"
	"github.com/youmark/pkcs8"
)

// Credentials are the secrets the URL does not carry; the command fills them
// from the environment. One of them, or a password in the URL, is needed.
type Credentials struct {
	Password string
	// PrivateKeyPEM is an RSA key (PKCS#8, encrypted or not, or PKCS#1) for
	// key-pair authentication.
	PrivateKeyPEM        string
	PrivateKeyPassphrase string
	// Token is an OAuth access token.
	Token string
}

// DefaultLoginTimeout bounds connecting; the driver's own default retries
// for five minutes, which a nightly job would spend waiting on a typo.
const DefaultLoginTimeout = 60 * time.Second

// options are the URL's settings for eventaudit rather than the driver.
type options struct {
	// arrowBatches reads window scans through the Arrow batch API.
	arrowBatches bool
}

// parseURL turns snowflake://USER[:PASSWORD]@ACCOUNT/DATABASE/SCHEMA?… into
// the driver's Config. Parameters: warehouse, role, authenticator
// (snowflake, snowflake_jwt, oauth), private_key_file, login_timeout,
// arrow_batches, and host, port and protocol for private links and tests.
func parseURL(rawURL string, creds Credentials) (*sf.Config, options, error) {
	opts := options{arrowBatches: true}
	cfg, err := parseConfig(rawURL, creds, &opts)
	return cfg, opts, err
}

func parseConfig(rawURL string, creds Credentials, opts *options) (*sf.Config, error) {
	bad := func(format string, args ...any) error {
		return audit.Configf(fmt.Errorf("warehouse URL snowflake://…: "+format, args...))
	}
	rest, ok := strings.CutPrefix(rawURL, "snowflake://")
	if !ok {
		return nil, bad("must start with snowflake://")
	}
	rest, query, _ := strings.Cut(rest, "?")
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return nil, bad("name the user: snowflake://USER@ACCOUNT/DATABASE/SCHEMA?warehouse=WH")
	}
	userinfo, hostpath := rest[:at], rest[at+1:]
	user, password, hasPassword := strings.Cut(userinfo, ":")
	var err error
	if user, err = url.PathUnescape(user); err != nil || user == "" {
		return nil, bad("the user name is missing or badly escaped")
	}
	if hasPassword {
		if password, err = url.PathUnescape(password); err != nil {
			return nil, bad("the password is badly escaped; percent-encode it")
		}
	}
	parts := strings.Split(hostpath, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return nil, bad("name the account, database and schema: snowflake://USER@ACCOUNT/DATABASE/SCHEMA?warehouse=WH")
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return nil, bad("bad query string")
	}
	cfg := &sf.Config{
		Account:          parts[0],
		User:             user,
		Database:         parts[1],
		Schema:           parts[2],
		Warehouse:        params.Get("warehouse"),
		Role:             params.Get("role"),
		Application:      "eventaudit",
		LoginTimeout:     DefaultLoginTimeout,
		DisableTelemetry: true,
		Params:           map[string]*string{},
	}
	for k, v := range sessionParams {
		cfg.Params[k] = &v
	}
	if cfg.Warehouse == "" {
		return nil, bad("name the virtual warehouse that runs the queries: ?warehouse=WH")
	}
	if s := params.Get("login_timeout"); s != "" {
		if cfg.LoginTimeout, err = time.ParseDuration(s); err != nil {
			return nil, bad("login_timeout %q is not a duration such as 30s", s)
		}
	}
	if s := params.Get("arrow_batches"); s != "" {
		if opts.arrowBatches, err = strconv.ParseBool(s); err != nil {
			return nil, bad("arrow_batches %q: use true or false", s)
		}
	}
	if h := params.Get("host"); h != "" {
		cfg.Host = h
		cfg.Protocol = "https"
	}
	if p := params.Get("protocol"); p != "" {
		cfg.Protocol = p
	}
	if p := params.Get("port"); p != "" {
		if cfg.Port, err = strconv.Atoi(p); err != nil {
			return nil, bad("port %q is not a number", p)
		}
	} else if cfg.Host != "" {
		cfg.Port = 443
	}
	if hasPassword {
		creds.Password = password
	}
	if t := params.Get("token"); t != "" {
		creds.Token = t
	}
	if f := params.Get("private_key_file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, bad("read private_key_file: %v", err)
		}
		creds.PrivateKeyPEM = string(b)
	}
	if err := authenticate(cfg, strings.ToLower(params.Get("authenticator")), creds); err != nil {
		return nil, audit.Configf(err)
	}
	return cfg, nil
}

// authenticate picks the method: the one named, else the one whose secret is
// present, key pair first.
func authenticate(cfg *sf.Config, method string, c Credentials) error {
	if method == "" {
		switch {
		case c.PrivateKeyPEM != "":
			method = "snowflake_jwt"
		case c.Token != "":
			method = "oauth"
		case c.Password != "":
			method = "snowflake"
		default:
			return errors.New("no Snowflake credentials: set SNOWFLAKE_PRIVATE_KEY_FILE (or SNOWFLAKE_PRIVATE_KEY), SNOWFLAKE_PASSWORD or SNOWFLAKE_TOKEN")
		}
	}
	switch method {
	case "snowflake_jwt":
		if c.PrivateKeyPEM == "" {
			return errors.New("authenticator snowflake_jwt needs a private key: set SNOWFLAKE_PRIVATE_KEY_FILE or SNOWFLAKE_PRIVATE_KEY")
		}
		key, err := ParsePrivateKey([]byte(c.PrivateKeyPEM), c.PrivateKeyPassphrase)
		if err != nil {
			return err
		}
		cfg.Authenticator, cfg.PrivateKey = sf.AuthTypeJwt, key
	case "oauth":
		if c.Token == "" {
			return errors.New("authenticator oauth needs an access token: set SNOWFLAKE_TOKEN")
		}
		cfg.Authenticator, cfg.Token = sf.AuthTypeOAuth, c.Token
	case "snowflake":
		if c.Password == "" {
			return errors.New("authenticator snowflake needs a password: set SNOWFLAKE_PASSWORD")
		}
		cfg.Authenticator, cfg.Password = sf.AuthTypeSnowflake, c.Password
	default:
		return fmt.Errorf("authenticator %q is not supported: use snowflake, snowflake_jwt or oauth", method)
	}
	return nil
}

// ParsePrivateKey reads an RSA private key in PEM: PKCS#8, encrypted
// PKCS#8 (openssl's default for `-v2 aes256`), or PKCS#1.
func ParsePrivateKey(pemBytes []byte, passphrase string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("the Snowflake private key is not PEM: it should start with -----BEGIN PRIVATE KEY-----")
	}
	var key any
	var err error
	switch block.Type {
	case "ENCRYPTED PRIVATE KEY":
		if passphrase == "" {
			return nil, errors.New("the Snowflake private key is encrypted: set SNOWFLAKE_PRIVATE_KEY_PASSPHRASE")
		}
		key, err = pkcs8.ParsePKCS8PrivateKey(block.Bytes, []byte(passphrase))
		if err != nil {
			return nil, errors.New("cannot decrypt the Snowflake private key: check SNOWFLAKE_PRIVATE_KEY_PASSPHRASE")
		}
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot parse the Snowflake private key (%s): %v", block.Type, err)
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("the Snowflake private key is not an RSA key; Snowflake key-pair authentication needs RSA")
	}
	return rsaKey, nil
}

// connectError says what failed at login and what to check, by the
// driver's error number.
func connectError(cfg *sf.Config, err error) error {
	who := fmt.Sprintf("Snowflake account %s as %s", cfg.Account, cfg.User)
	var se *sf.SnowflakeError
	if errors.As(err, &se) {
		switch se.Number {
		case 390100:
			return fmt.Errorf("connect to %s: %w; check the user and SNOWFLAKE_PASSWORD", who, err)
		case 390144, 394304:
			return fmt.Errorf("connect to %s: %w; the key pair was refused: check that the user's RSA_PUBLIC_KEY matches the private key and that the clocks agree", who, err)
		case 390303, 390318:
			return fmt.Errorf("connect to %s: %w; the OAuth token was refused or has expired: fetch a new SNOWFLAKE_TOKEN", who, err)
		case sf.ErrCodeFailedToConnect:
			return fmt.Errorf("connect to %s: %w; check the account identifier (ORG-ACCOUNT or the locator with its region)", who, err)
		}
	}
	return fmt.Errorf("connect to %s: %w", who, err)
}
