# The transform of the example DAG: the day's orders, converted to EUR with the treasury's
# rates, summed per region. Usage:
#   awk -v ds=2026-11-30 -f transform.awk reference/fx_rates.csv landing/orders/ds=2026-11-30/orders.csv
BEGIN { FS = ","; OFS = "," }
FNR == 1 { next }                                  # the header of each file
NR == FNR { rate[$1] = $2; next }                  # fx_rates.csv: currency,rate_to_eur
{
    if (!($3 in rate)) { print "transform: no rate for currency " $3 > "/dev/stderr"; bad = 1; exit 1 }
    orders[$2] += 1
    revenue[$2] += $4 * rate[$3]
}
END {
    if (bad) exit 1
    print "ds", "region", "orders", "revenue_eur"
    n = 0
    for (r in orders) keys[++n] = r
    # a stable order: insertion sort of the region names
    for (i = 2; i <= n; i++) { k = keys[i]; for (j = i - 1; j > 0 && keys[j] > k; j--) keys[j + 1] = keys[j]; keys[j + 1] = k }
    for (i = 1; i <= n; i++) printf "%s,%s,%d,%.2f\n", ds, keys[i], orders[keys[i]], revenue[keys[i]]
}
