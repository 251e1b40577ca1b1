// Command lifecycle runs the archive policy of S3's documentation on a
// store whose clock it moves forward: logs go to STANDARD_IA at 30 days,
// to GLACIER at 90 and are deleted at 365. At each step it runs the due
// lifecycle actions and prints the usage table, so the storage class of
// the logs and the monthly bill can be seen to change. Along the way it
// restores an archived log to read it.
//
//	go run ./examples/lifecycle            # in a fresh temporary directory
//	go run ./examples/lifecycle -dir data  # in ./data (kept afterwards)
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"sync/atomic"
	"time"

	"github.com/cellarhq/cellar"
)

func main() {
	dir := flag.String("dir", "", "store directory (default: a temporary directory, removed afterwards)")
	flag.Parse()
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "cellar-lifecycle-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	if err := run(context.Background(), os.Stdout, *dir); err != nil {
		log.Fatal(err)
	}
}

// archivePolicy is the lifecycle configuration, in the JSON the aws CLI
// takes (aws s3api put-bucket-lifecycle-configuration).
const archivePolicy = `{
  "Rules": [
    {
      "ID": "Archive old logs",
      "Status": "Enabled",
      "Filter": {"Prefix": "logs/"},
      "Transitions": [
        {"Days": 30, "StorageClass": "STANDARD_IA"},
        {"Days": 90, "StorageClass": "GLACIER"}
      ],
      "Expiration": {"Days": 365}
    }
  ]
}`

// clock is the store's clock, which run moves forward.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

func run(ctx context.Context, out io.Writer, dir string) error {
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	c := &clock{}
	c.ns.Store(start.UnixNano())
	// The background runner is off: the program runs the due actions
	// itself after each move of the clock.
	st, err := cellar.Open(ctx, &cellar.Options{Dir: dir, Clock: c.now, LifecycleInterval: -1})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.CreateBucket(ctx, "app", nil); err != nil {
		return err
	}
	b := st.Bucket("app")
	cfg, err := cellar.ParseLifecycle([]byte(archivePolicy))
	if err != nil {
		return err
	}
	if err := b.SetLifecycle(ctx, cfg); err != nil {
		return err
	}
	fmt.Fprintln(out, "bucket app: logs/ to STANDARD_IA at 30 days, GLACIER at 90, deleted at 365")

	// Three logs of 256 KiB (transitions skip objects under 128 KiB, as
	// S3 does), and a file outside the rule.
	for i := range 3 {
		key := fmt.Sprintf("logs/2026-01-05-%d.log", i)
		body := bytes.Repeat([]byte(fmt.Sprintf("%s request served\n", key)), 256<<10/len(key)/2)
		info, err := b.Put(ctx, key, bytes.NewReader(body), nil)
		if err != nil {
			return err
		}
		if i == 0 && info.Expiration != nil {
			fmt.Fprintf(out, "put %s: expires %s by rule %q\n", key, info.Expiration.Date.Format(time.DateOnly), info.Expiration.RuleID)
		}
	}
	if _, err := b.Put(ctx, "config.json", bytes.NewReader(bytes.Repeat([]byte("{}\n"), 100_000)), nil); err != nil {
		return err
	}

	// S3 takes an action at the midnight (UTC) after an object's age
	// passes the rule's days: "day N" is that midnight for the logs put on
	// 2026-01-05, the end of their Nth day.
	midnight := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
	for _, day := range []int{0, 29, 30, 89, 90, 364, 365} {
		if day > 0 {
			c.ns.Store(midnight.AddDate(0, 0, day+1).UnixNano())
		}
		rep, err := st.RunLifecycle(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "\nday %d (%s): %d transitioned, %d expired\n", day, c.now().Format(time.DateTime), rep.Transitioned, rep.Expired)
		u, err := st.Usage(ctx)
		if err != nil {
			return err
		}
		if err := u.WriteTable(out); err != nil {
			return err
		}
		if day == 90 {
			if err := restore(ctx, out, c, b, "logs/2026-01-05-0.log"); err != nil {
				return err
			}
		}
	}
	return nil
}

// restore shows that an archived log cannot be read until it is restored,
// restores it and reads it.
func restore(ctx context.Context, out io.Writer, c *clock, b *cellar.Bucket, key string) error {
	_, err := b.Get(ctx, key, nil)
	if !errors.Is(err, cellar.ErrInvalidObjectState) {
		return fmt.Errorf("get of an archived log: %v, want ErrInvalidObjectState", err)
	}
	fmt.Fprintf(out, "get %s: ErrInvalidObjectState (archived in GLACIER)\n", key)
	if err := b.Restore(ctx, key, &cellar.RestoreOptions{Days: 1, Tier: "Expedited"}); err != nil {
		return err
	}
	info, err := b.Head(ctx, key, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "restore %s (Expedited, 1 day): ongoing %v\n", key, info.Restore != nil && info.Restore.Ongoing)
	saved := c.ns.Load()
	c.ns.Add(int64(5*time.Minute + time.Second))
	defer c.ns.Store(saved)
	obj, err := b.Get(ctx, key, nil)
	if err != nil {
		return err
	}
	defer obj.Close()
	n, err := io.Copy(io.Discard, obj)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "5 minutes later: read %d bytes of %s, storage class %s\n", n, key, obj.Info().StorageClass)
	return nil
}
