package cellar

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable writes u as a table: a line per bucket and storage class
// (INTELLIGENT_TIERING split by tier), then the totals per class, with
// objects, logical bytes, stored bytes (with parity) and the estimated
// monthly cost in US dollars.
func (u Usage) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "bucket\tstorage class\tobjects\tlogical\tstored\tUSD/month")
	line := func(bucket string, c ClassUsage) {
		class := c.StorageClass
		if c.Tier != "" {
			class += " (" + c.Tier + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%.6f\n", bucket, class, c.Objects, usageBytes(c.LogicalBytes), usageBytes(c.StoredBytes), c.MonthlyCost)
	}
	for _, b := range u.Buckets {
		for _, c := range b.Classes {
			line(b.Bucket, c)
		}
	}
	var cost float64
	for _, c := range u.Total {
		line("(all)", c)
		cost += c.MonthlyCost
	}
	fmt.Fprintf(tw, "(all)\t(all)\t\t\t\t%.6f\n", cost)
	return tw.Flush()
}

func usageBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.2f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
