//go:build unix

package main

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAWSCLI runs the aws command line interface, as a user would, against
// a "cellar serve --memory" process: bucket and object commands of
// "aws s3" (multipart uploads and sync included) and the flexible
// checksums of "aws s3api put-object". .ci/run installs Debian's awscli
// when it can; without it the test skips.
func TestAWSCLI(t *testing.T) {
	awsBin := findAWSCLI(t)
	bin := buildCellar(t)
	p := startServe(t, bin, testEnv(testCreds...), "--memory", "--addr", "127.0.0.1:0")
	cli := newAWSCLI(t, awsBin, p.url, "")
	if out, _, err := cli.run("--version"); err != nil {
		t.Skipf("%s --version: %v; not a working aws CLI", awsBin, err)
	} else {
		t.Logf("%s: %s", awsBin, strings.TrimSpace(out))
	}

	const bucket = "cli-bucket"
	s3url := "s3://" + bucket
	src := t.TempDir()
	// Files dated an hour back: S3 (and cellar) report LastModified to the
	// second, and sync re-uploads a local file newer than its copy.
	past := time.Now().Add(-time.Hour)
	writeFile := func(rel string, b []byte) string {
		t.Helper()
		name := filepath.Join(src, rel)
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(name, past, past); err != nil {
			t.Fatal(err)
		}
		return name
	}
	small := testBytes(1000)
	big := testBytes(64 << 20)
	smallFile := writeFile("small.bin", small)
	bigFile := writeFile("big.bin", big)

	cli.must("s3", "mb", s3url)
	if out := cli.must("s3", "ls"); !strings.Contains(out, bucket) {
		t.Errorf("aws s3 ls after mb lacks %s:\n%s", bucket, out)
	}
	cli.must("s3", "cp", "--no-progress", smallFile, s3url+"/small.bin")
	start := time.Now()
	cli.must("s3", "cp", "--no-progress", bigFile, s3url+"/big.bin")
	t.Logf("aws s3 cp of 64 MiB: %v", time.Since(start).Round(time.Millisecond))
	// 64 MiB in 8 MiB parts: a multipart upload of 8 parts, whose ETag
	// ends in -8.
	head := cli.headObject(bucket, "big.bin")
	if etag, _ := head["ETag"].(string); !strings.HasSuffix(etag, `-8"`) {
		t.Errorf("big.bin ETag %q; want a multipart ETag of 8 parts (…-8)", etag)
	}
	if n, _ := head["ContentLength"].(float64); int(n) != len(big) {
		t.Errorf("big.bin ContentLength %v; want %d", head["ContentLength"], len(big))
	}
	out := cli.must("s3", "ls", s3url+"/")
	for _, want := range []string{fmt.Sprintf("%d small.bin", len(small)), fmt.Sprintf("%d big.bin", len(big))} {
		if !strings.Contains(out, want) {
			t.Errorf("aws s3 ls %s/ lacks %q:\n%s", s3url, want, out)
		}
	}

	// sync a small tree, then again: the second copies nothing.
	tree := map[string][]byte{
		"tree/a.txt":           []byte("alpha\n"),
		"tree/sub/b.bin":       testBytes(70 << 10),
		"tree/sub/deep/c.txt":  []byte("gamma\n"),
		"tree/sub/deep/d e.md": []byte("# with a space\n"),
	}
	for rel, b := range tree {
		writeFile(rel, b)
	}
	out = cli.must("s3", "sync", "--no-progress", filepath.Join(src, "tree"), s3url+"/tree")
	if n := strings.Count(out, "upload: "); n != len(tree) {
		t.Errorf("first aws s3 sync: %d uploads; want %d:\n%s", n, len(tree), out)
	}
	if out := cli.must("s3", "sync", "--no-progress", filepath.Join(src, "tree"), s3url+"/tree"); strings.TrimSpace(out) != "" {
		t.Errorf("second aws s3 sync copied something; want nothing:\n%s", out)
	}

	// cp back down and compare.
	dst := t.TempDir()
	cli.must("s3", "cp", "--no-progress", s3url+"/big.bin", filepath.Join(dst, "big.bin"))
	cli.must("s3", "cp", "--no-progress", s3url+"/small.bin", filepath.Join(dst, "small.bin"))
	cli.must("s3", "cp", "--no-progress", "--recursive", s3url+"/tree", filepath.Join(dst, "tree"))
	want := map[string][]byte{"big.bin": big, "small.bin": small}
	for rel, b := range tree {
		want[rel] = b
	}
	got := map[string][]byte{}
	filepath.WalkDir(dst, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Error(err)
			return nil
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dst, path)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Error(err)
			}
			got[filepath.ToSlash(rel)] = b
		}
		return nil
	})
	for rel, b := range want {
		if g, ok := got[rel]; !ok {
			t.Errorf("download lacks %s", rel)
		} else if !bytes.Equal(g, b) {
			t.Errorf("downloaded %s: %d bytes that differ from the %d uploaded", rel, len(g), len(b))
		}
	}
	for rel := range got {
		if _, ok := want[rel]; !ok {
			t.Errorf("download has unexpected %s", rel)
		}
	}

	testAWSCLIChecksums(t, cli, bucket, smallFile, small)
	testAWSCLIEmptyObject(t, newAWSCLI(t, awsBin, p.url, "    max_concurrent_requests = 1\n"), bucket)

	// rm --recursive empties the bucket; rb removes it.
	out = cli.must("s3", "rm", "--recursive", s3url)
	if n := strings.Count(out, "delete: "); n < len(want) {
		t.Errorf("aws s3 rm --recursive: %d deletes; want at least %d:\n%s", n, len(want), out)
	}
	if out := cli.must("s3", "ls", "--recursive", s3url); strings.TrimSpace(out) != "" {
		t.Errorf("bucket not empty after aws s3 rm --recursive:\n%s", out)
	}
	cli.must("s3", "rb", s3url)
	if out := cli.must("s3", "ls"); strings.Contains(out, bucket) {
		t.Errorf("aws s3 ls after rb still lists %s:\n%s", bucket, out)
	}

	p.signal(syscall.SIGTERM)
	p.wait()
}

// testAWSCLIChecksums puts small with each checksum algorithm of
// "aws s3api put-object" and reads the checksum back with head-object,
// then puts it with a wrong CRC32, which must fail with BadDigest.
func testAWSCLIChecksums(t *testing.T, cli *awsCLI, bucket, file string, body []byte) {
	help, _, err := cli.run("s3api", "put-object", "help")
	if err != nil || !strings.Contains(help, "--checksum-algorithm") {
		t.Logf("this aws CLI's put-object lacks --checksum-algorithm (help: %v); checksums not covered", err)
		return
	}
	crc := func(tab *crc32.Table) string {
		return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc32.Checksum(body, tab)))
	}
	s1, s256 := sha1.Sum(body), sha256.Sum256(body)
	for _, tc := range []struct{ algo, field, want string }{
		{"CRC32", "ChecksumCRC32", crc(crc32.IEEETable)},
		{"CRC32C", "ChecksumCRC32C", crc(crc32.MakeTable(crc32.Castagnoli))},
		{"SHA1", "ChecksumSHA1", base64.StdEncoding.EncodeToString(s1[:])},
		{"SHA256", "ChecksumSHA256", base64.StdEncoding.EncodeToString(s256[:])},
	} {
		key := "checksum/" + strings.ToLower(tc.algo)
		out, stderr, err := cli.run("s3api", "put-object", "--bucket", bucket, "--key", key, "--body", file, "--checksum-algorithm", tc.algo)
		if err != nil {
			t.Errorf("put-object --checksum-algorithm %s: %v\n%s", tc.algo, err, stderr)
			continue
		}
		var put map[string]any
		if err := json.Unmarshal([]byte(out), &put); err != nil {
			t.Errorf("put-object --checksum-algorithm %s: output %q: %v", tc.algo, out, err)
		} else if g, _ := put[tc.field].(string); g != tc.want {
			t.Errorf("put-object --checksum-algorithm %s: %s %q; want %q (output %s)", tc.algo, tc.field, g, tc.want, out)
		}
		head := cli.headObject(bucket, key, "--checksum-mode", "ENABLED")
		if g, _ := head[tc.field].(string); g != tc.want {
			t.Errorf("head-object --checksum-mode ENABLED of a %s put: %s %q; want %q (output %v)", tc.algo, tc.field, g, tc.want, head)
		}
	}

	// A wrong CRC32 (that of other bytes): BadDigest, and no object.
	wrong := base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE([]byte("other"))))
	_, stderr, err := cli.run("s3api", "put-object", "--bucket", bucket, "--key", "checksum/wrong", "--body", file, "--checksum-crc32", wrong)
	if err == nil || !strings.Contains(stderr, "BadDigest") {
		t.Errorf("put-object --checksum-crc32 %s (wrong): %v, stderr %q; want a BadDigest failure", wrong, err, stderr)
	}
	_, stderr, err = cli.run("s3api", "head-object", "--bucket", bucket, "--key", "checksum/wrong")
	if err == nil || !(strings.Contains(stderr, "404") || strings.Contains(stderr, "Not Found")) {
		t.Errorf("head-object after a put with a wrong CRC32: %v, stderr %q; want 404", err, stderr)
	}
}

// testAWSCLIEmptyObject uploads an empty file and then non-empty ones
// through one connection. The CLI sends "Expect: 100-continue" even with
// an empty body; answered with the final status and no "100 Continue"
// (which RFC 9110 allows, and Go's net/http does), botocore keeps that
// status line for the connection's next 100-continue request and then
// misreads its response and waits for the connection to close
// (boto/botocore#3755, #3010; minio/minio#11245). S3 sends "100 Continue"
// regardless, so this is the server's to fix; until it is, the stall
// makes this subtest skip, and say so.
func testAWSCLIEmptyObject(t *testing.T, cli *awsCLI, bucket string) {
	t.Run("empty-object-then-more", func(t *testing.T) {
		cli.t = t
		dir := t.TempDir()
		files := map[string][]byte{"0-empty": {}, "1.txt": []byte("one\n"), "2.txt": []byte("two\n"), "3.txt": []byte("three\n"), "4.txt": []byte("four\n")}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cli.timeout = 10 * time.Second
		out, stderr, err := cli.run("s3", "cp", "--no-progress", "--recursive", dir, "s3://"+bucket+"/empty-then-more/")
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("aws s3 cp of an empty file and then others stalled for %v (uploads done: %q): "+
				"a PUT with Content-Length: 0 and Expect: 100-continue must get \"HTTP/1.1 100 Continue\" first", cli.timeout, out)
		}
		if err != nil {
			t.Fatalf("aws s3 cp --recursive: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr)
		}
		for name, b := range files {
			head := cli.headObject(bucket, "empty-then-more/"+name)
			if n, _ := head["ContentLength"].(float64); int(n) != len(b) {
				t.Errorf("empty-then-more/%s: ContentLength %v; want %d", name, head["ContentLength"], len(b))
			}
		}
	})
}

// findAWSCLI returns the aws CLI to run, /usr/bin/aws (Debian's awscli)
// before the first on PATH, or skips the test.
func findAWSCLI(t *testing.T) string {
	t.Helper()
	if fi, err := os.Stat("/usr/bin/aws"); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return "/usr/bin/aws"
	}
	if p, err := exec.LookPath("aws"); err == nil {
		return p
	}
	t.Skip("aws CLI not installed; .ci/run installs Debian's awscli")
	return ""
}

// awsCLI runs the aws CLI against one endpoint with a private
// configuration: no profile, config or credentials of the user's.
type awsCLI struct {
	t        *testing.T
	bin, url string
	env      []string
	timeout  time.Duration // per command; a minute if zero
}

func newAWSCLI(t *testing.T, bin, url, s3conf string) *awsCLI {
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	credentials := filepath.Join(dir, "credentials")
	// 8 MiB parts; path-style requests (the endpoint is an IP address).
	conf := "[default]\ns3 =\n    multipart_threshold = 8MB\n    multipart_chunksize = 8MB\n    addressing_style = path\n" + s3conf
	if err := os.WriteFile(config, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(credentials, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"HOME="+t.TempDir(),
		"AWS_ACCESS_KEY_ID="+testAccessKey,
		"AWS_SECRET_ACCESS_KEY="+testSecretKey,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+config,
		"AWS_SHARED_CREDENTIALS_FILE="+credentials,
		"AWS_PAGER=",
		"AWS_EC2_METADATA_DISABLED=true",
	)
	return &awsCLI{t: t, bin: bin, url: url, env: env}
}

// run runs aws with args (and --endpoint-url, JSON output), for at most
// c.timeout, and returns its stdout and stderr.
func (c *awsCLI) run(args ...string) (stdout, stderr string, err error) {
	timeout := c.timeout
	if timeout == 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if len(args) > 0 && args[0] != "--version" && args[len(args)-1] != "help" {
		args = append(args, "--endpoint-url", c.url, "--output", "json")
	}
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = c.env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if ctx.Err() != nil {
		err = errors.Join(err, ctx.Err())
	}
	return o.String(), e.String(), err
}

// must runs aws with args and stops the test if it fails.
func (c *awsCLI) must(args ...string) string {
	c.t.Helper()
	out, stderr, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("aws %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, stderr)
	}
	return out
}

// headObject runs "aws s3api head-object" and decodes its JSON output.
func (c *awsCLI) headObject(bucket, key string, extra ...string) map[string]any {
	c.t.Helper()
	out := c.must(append([]string{"s3api", "head-object", "--bucket", bucket, "--key", key}, extra...)...)
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		c.t.Fatalf("head-object %s/%s: output %q: %v", bucket, key, out, err)
	}
	return m
}
